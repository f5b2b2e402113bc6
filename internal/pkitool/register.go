package pkitool

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/iotcore/iotcore/internal/pki"
)

// Registrar is the part of the AWS IoT API that RegisterCA uses. The command
// line adapts the AWS SDK for Go's IoT client to it.
type Registrar interface {
	GetRegistrationCode(ctx context.Context) (string, error)
	RegisterCACertificate(ctx context.Context, in CARegistration) (RegisteredCA, error)
}

// CARegistration is a RegisterCACertificate request.
type CARegistration struct {
	CACertificatePEM           string
	VerificationCertificatePEM string
	SetAsActive                bool
	AllowAutoRegistration      bool
	// Config is the JITP template; the zero value sends none (JITR).
	Config RegistrationConfig
}

// RegisteredCA is RegisterCACertificate's answer.
type RegisteredCA struct {
	ID  string // certificateId
	ARN string // certificateArn
}

// RegisterCARequest asks for the whole CA registration of seed 000, in one
// step: get the registration code, issue the verification certificate with
// the CA's key, register the CA as ACTIVE with auto-registration enabled and
// the JITP template, or none for JITR.
type RegisterCARequest struct {
	CACertPath, CAKeyPath string
	// Config is the JITP template (a body and role, or a template name);
	// the zero value registers the CA for just-in-time registration.
	Config RegistrationConfig
	// EndpointURL and Region are the API's, for the aws CLI commands an
	// error suggests (--endpoint-url, --region), so that they reach the same
	// API; empty: left out, as for AWS IoT itself and the CLI's default.
	EndpointURL, Region string
	// Progress, if set, is told each step as it completes.
	Progress func(step string)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// RegisterCAResult is what RegisterCA did.
type RegisterCAResult struct {
	RegisteredCA
	Notes []string
}

// RegisterCA registers a CA through r.
func RegisterCA(ctx context.Context, r Registrar, req RegisterCARequest) (*RegisterCAResult, error) {
	now := clock(req.Now)
	progress := req.Progress
	if progress == nil {
		progress = func(string) {}
	}
	if req.Config.TemplateBody != "" && req.Config.TemplateName != "" {
		return nil, errors.New("register CA: give a template body or a template name, not both")
	}
	ca, err := LoadCA(req.CACertPath, req.CAKeyPath, now)
	if err != nil {
		return nil, fmt.Errorf("register CA: %w", err)
	}
	caID := pki.CertificateID(ca.Certificate.Raw)

	code, err := r.GetRegistrationCode(ctx)
	if err != nil {
		return nil, fmt.Errorf("register CA: get registration code: %w", explainAPIError(err, &req, caID))
	}
	progress("got the registration code " + code)
	ver, err := verificationCert(ca, code, 0, now)
	if err != nil {
		return nil, fmt.Errorf("register CA: %w", err)
	}
	progress(fmt.Sprintf("issued the verification certificate %s, signed by %s", ver.Subject, ca.Certificate.Subject))

	out, err := r.RegisterCACertificate(ctx, CARegistration{
		CACertificatePEM:           pki.EncodeCertificatePEM(ca.Certificate),
		VerificationCertificatePEM: pki.EncodeCertificatePEM(ver),
		SetAsActive:                true,
		AllowAutoRegistration:      true,
		Config:                     req.Config,
	})
	if err != nil {
		return nil, fmt.Errorf("register CA: %w", explainAPIError(err, &req, caID))
	}
	how := "just-in-time registration (JITR): new device certificates become PENDING_ACTIVATION, with an event on $aws/events/certificates/registered/" + out.ID
	switch {
	case req.Config.TemplateName != "":
		how = "just-in-time provisioning (JITP) with the provisioning template " + req.Config.TemplateName
	case req.Config.TemplateBody != "":
		how = "just-in-time provisioning (JITP) with its template"
	}
	progress("registered the CA " + out.ID + ": ACTIVE, auto-registration ENABLE, " + how)

	res := &RegisterCAResult{RegisteredCA: out}
	if req.Config.TemplateBody != "" && req.Config.RoleARN == "" {
		res.Notes = append(res.Notes, "the template has no role ARN: iotcore does not need one, but AWS IoT does (give --role-arn)")
	}
	return res, nil
}

// explainAPIError keeps the AWS error code and message of err (the SDK's
// errors implement ErrorCode and ErrorMessage) and says what to do about the
// common ones.
func explainAPIError(err error, req *RegisterCARequest, caID string) error {
	var api interface {
		ErrorCode() string
		ErrorMessage() string
	}
	if !errors.As(err, &api) {
		var op *net.OpError
		if errors.As(err, &op) {
			return &apiError{msg: fmt.Sprintf("cannot reach the API (%v): is the server running, and is the endpoint URL right?", op), err: err}
		}
		return err
	}
	msg := api.ErrorCode()
	if m := strings.TrimSpace(api.ErrorMessage()); m != "" {
		msg += ": " + m
	}
	switch api.ErrorCode() {
	case "ResourceAlreadyExistsException":
		msg += "; this CA is registered already: " + req.awsCommand("describe-ca-certificate", "--certificate-id", caID)
	case "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignatureException",
		"MissingAuthenticationTokenException", "AccessDeniedException", "ForbiddenException":
		msg += "; the API refused the credentials: for iotcore use the ones in its data directory (AWS_SHARED_CREDENTIALS_FILE=<data-dir>/credentials)"
	case "RegistrationCodeValidationException":
		msg += "; the registration code changed meanwhile (delete-registration-code?): run the command again"
	}
	return &apiError{msg: msg, err: err}
}

// awsCommand is the aws CLI command line of an IoT operation on req's API.
func (req *RegisterCARequest) awsCommand(args ...string) string {
	cmd := []string{"aws"}
	if req.Region != "" {
		cmd = append(cmd, "--region", req.Region)
	}
	if req.EndpointURL != "" {
		cmd = append(cmd, "--endpoint-url", req.EndpointURL)
	}
	return strings.Join(append(append(cmd, "iot"), args...), " ")
}

// apiError is an API error as explainAPIError tells it; it wraps the
// client's own error.
type apiError struct {
	msg string
	err error
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.err }
