package awssdk

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	"github.com/aws/smithy-go"

	"github.com/iotcore/iotcore/internal/pkitool"
)

// Client is the part of *iot.Client a Registrar calls.
type Client interface {
	GetRegistrationCode(ctx context.Context, in *iot.GetRegistrationCodeInput, optFns ...func(*iot.Options)) (*iot.GetRegistrationCodeOutput, error)
	RegisterCACertificate(ctx context.Context, in *iot.RegisterCACertificateInput, optFns ...func(*iot.Options)) (*iot.RegisterCACertificateOutput, error)
}

var _ Client = (*iot.Client)(nil)

// Registrar is a pkitool.Registrar over an AWS IoT client. Errors are the
// SDK's, whose ErrorCode and ErrorMessage pkitool reads.
type Registrar struct {
	Client Client
}

var _ pkitool.Registrar = Registrar{}

// GetRegistrationCode calls GetRegistrationCode.
func (r Registrar) GetRegistrationCode(ctx context.Context) (string, error) {
	out, err := r.Client.GetRegistrationCode(ctx, &iot.GetRegistrationCodeInput{})
	if err != nil {
		return "", explain(err)
	}
	if out.RegistrationCode == nil {
		return "", errors.New("get registration code: the answer has no registrationCode")
	}
	return *out.RegistrationCode, nil
}

// RegisterCACertificate calls RegisterCACertificate (certificateMode
// DEFAULT: with the verification certificate).
func (r Registrar) RegisterCACertificate(ctx context.Context, in pkitool.CARegistration) (pkitool.RegisteredCA, error) {
	req := &iot.RegisterCACertificateInput{
		CaCertificate:           aws.String(in.CACertificatePEM),
		VerificationCertificate: aws.String(in.VerificationCertificatePEM),
		SetAsActive:             in.SetAsActive,
		AllowAutoRegistration:   in.AllowAutoRegistration,
	}
	if c := in.Config; !c.IsZero() {
		req.RegistrationConfig = &types.RegistrationConfig{
			TemplateBody: optional(c.TemplateBody),
			RoleArn:      optional(c.RoleARN),
			TemplateName: optional(c.TemplateName),
		}
	}
	out, err := r.Client.RegisterCACertificate(ctx, req)
	if err != nil {
		return pkitool.RegisteredCA{}, explain(err)
	}
	return pkitool.RegisteredCA{ID: aws.ToString(out.CertificateId), ARN: aws.ToString(out.CertificateArn)}, nil
}

// explain says what to do about the SDK's errors that are not the API's:
// today, no credentials at all, which the SDK reports only in words.
func explain(err error) error {
	var api smithy.APIError
	if !errors.As(err, &api) && strings.Contains(err.Error(), "get credentials:") {
		return fmt.Errorf("no usable AWS credentials (for iotcore, set AWS_SHARED_CREDENTIALS_FILE to the credentials file in its data directory): %w", err)
	}
	return err
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
