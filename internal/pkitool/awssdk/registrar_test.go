package awssdk_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/iotcore/iotcore/internal/pkitool"
	"github.com/iotcore/iotcore/internal/pkitool/awssdk"
	"github.com/iotcore/iotcore/internal/servertest"
)

// startServer runs a gateway on loopback and returns an SDK client for it.
func startServer(t *testing.T) *iot.Client {
	t.Helper()
	return servertest.Start(t).Client
}

// TestRegisterCA registers CAs for JITP and JITR through the SDK against a
// real server and reads them back.
func TestRegisterCA(t *testing.T) {
	client := startServer(t)
	ctx := context.Background()
	dir := t.TempDir()
	tmpl, err := pkitool.ParseTemplateFile([]byte(`{"templateBody": {"Resources": {"policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "p"}}}}, "roleArn": "arn:aws:iam::123456789012:role/JITPRole"}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		config   pkitool.RegistrationConfig
		wantBody bool
	}{
		{"jitp", tmpl, true},
		{"jitr", pkitool.RegistrationConfig{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ca, err := pkitool.CreateCA(pkitool.CARequest{Subject: pkitool.Subject{CommonName: tt.name}, Output: pkitool.Output{Dir: dir, Name: tt.name}})
			if err != nil {
				t.Fatal(err)
			}
			req := pkitool.RegisterCARequest{CACertPath: filepath.Join(dir, tt.name+".pem"), CAKeyPath: filepath.Join(dir, tt.name+".key"), Config: tt.config}
			res, err := pkitool.RegisterCA(ctx, awssdk.Registrar{Client: client}, req)
			if err != nil {
				t.Fatal(err)
			}
			if res.ID != ca.ID || res.ARN != "arn:aws:iot:us-east-1:123456789012:cacert/"+ca.ID {
				t.Errorf("registered %+v, want id %s", res.RegisteredCA, ca.ID)
			}
			out, err := client.DescribeCACertificate(ctx, &iot.DescribeCACertificateInput{CertificateId: aws.String(res.ID)})
			if err != nil {
				t.Fatal(err)
			}
			d := out.CertificateDescription
			if d.Status != "ACTIVE" || d.AutoRegistrationStatus != "ENABLE" {
				t.Errorf("status %s, auto-registration %s; want ACTIVE, ENABLE", d.Status, d.AutoRegistrationStatus)
			}
			if got := out.RegistrationConfig != nil && aws.ToString(out.RegistrationConfig.TemplateBody) == tmpl.TemplateBody &&
				aws.ToString(out.RegistrationConfig.RoleArn) == tmpl.RoleARN; got != tt.wantBody {
				t.Errorf("registration config %+v, want the template: %v", out.RegistrationConfig, tt.wantBody)
			}

			// Again: the server says it exists, and pkitool says which CA it is.
			_, err = pkitool.RegisterCA(ctx, awssdk.Registrar{Client: client}, req)
			if err == nil || !strings.Contains(err.Error(), "ResourceAlreadyExistsException") || !strings.Contains(err.Error(), "--certificate-id "+ca.ID) {
				t.Errorf("registering twice: %v", err)
			}
		})
	}
}

// noCredentials is a client whose SDK found no credentials.
type noCredentials struct{ awssdk.Client }

func (noCredentials) GetRegistrationCode(context.Context, *iot.GetRegistrationCodeInput, ...func(*iot.Options)) (*iot.GetRegistrationCodeOutput, error) {
	return nil, errors.New("operation error IoT: GetRegistrationCode, get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found")
}

func TestNoCredentials(t *testing.T) {
	_, err := awssdk.Registrar{Client: noCredentials{}}.GetRegistrationCode(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no usable AWS credentials (for iotcore, set AWS_SHARED_CREDENTIALS_FILE") {
		t.Errorf("error %v, want a hint about credentials", err)
	}
}
