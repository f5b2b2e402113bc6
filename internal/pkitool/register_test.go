package pkitool_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pkitool"
)

// fakeRegistrar checks requests as the server would.
type fakeRegistrar struct {
	code      string
	codeErr   error
	registerr error
	got       *pkitool.CARegistration
}

func (f *fakeRegistrar) GetRegistrationCode(context.Context) (string, error) {
	return f.code, f.codeErr
}

func (f *fakeRegistrar) RegisterCACertificate(_ context.Context, in pkitool.CARegistration) (pkitool.RegisteredCA, error) {
	f.got = &in
	if f.registerr != nil {
		return pkitool.RegisteredCA{}, f.registerr
	}
	ca, err := pki.ParseCertificatePEM(in.CACertificatePEM)
	if err != nil {
		return pkitool.RegisteredCA{}, err
	}
	ver, err := pki.ParseCertificatePEM(in.VerificationCertificatePEM)
	if err != nil {
		return pkitool.RegisteredCA{}, err
	}
	if err := pki.CheckVerificationCertificate(ca, ver, f.code); err != nil {
		return pkitool.RegisteredCA{}, err
	}
	id := pki.CertificateID(ca.Raw)
	return pkitool.RegisteredCA{ID: id, ARN: "arn:aws:iot:us-east-2:123456789012:cacert/" + id}, nil
}

// apiErr is an error as the AWS SDK reports them.
type apiErr struct{ code, msg string }

func (e apiErr) Error() string {
	return "operation error IoT: RegisterCACertificate, " + e.code + ": " + e.msg
}
func (e apiErr) ErrorCode() string    { return e.code }
func (e apiErr) ErrorMessage() string { return e.msg }

func TestRegisterCA(t *testing.T) {
	dir := t.TempDir()
	ca := newRoot(t, dir, "ca", "")
	certPath, keyPath := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
	jitp := pkitool.RegistrationConfig{TemplateBody: `{"Resources":{}}`, RoleARN: "arn:aws:iam::123456789012:role/JITPRole"}
	tests := []struct {
		name      string
		config    pkitool.RegistrationConfig
		wantStep  string
		wantNotes int
	}{
		{"JITP", jitp, "just-in-time provisioning (JITP) with its template", 0},
		{"JITP without a role", pkitool.RegistrationConfig{TemplateBody: `{"Resources":{}}`}, "JITP", 1},
		{"template name", pkitool.RegistrationConfig{TemplateName: "factory"}, "with the provisioning template factory", 0},
		{"JITR", pkitool.RegistrationConfig{}, "just-in-time registration (JITR)", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeRegistrar{code: "abc123"}
			var steps []string
			res, err := pkitool.RegisterCA(context.Background(), f, pkitool.RegisterCARequest{
				CACertPath: certPath, CAKeyPath: keyPath, Config: tt.config,
				Progress: func(s string) { steps = append(steps, s) },
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.ID != ca.ID || !strings.HasSuffix(res.ARN, ca.ID) {
				t.Errorf("registered %+v, want the CA's id %s", res.RegisteredCA, ca.ID)
			}
			if !f.got.SetAsActive || !f.got.AllowAutoRegistration || f.got.Config != tt.config {
				t.Errorf("request %+v, want active, auto-registration and config %+v", f.got, tt.config)
			}
			if len(steps) != 3 || !strings.Contains(steps[0], "abc123") || !strings.Contains(steps[2], tt.wantStep) {
				t.Errorf("steps %q, want code, verification, registration with %q", steps, tt.wantStep)
			}
			if len(res.Notes) != tt.wantNotes {
				t.Errorf("notes %q, want %d", res.Notes, tt.wantNotes)
			}
		})
	}
}

func TestRegisterCAErrors(t *testing.T) {
	dir := t.TempDir()
	ca := newRoot(t, dir, "ca", "")
	newRoot(t, dir, "other", "")
	certPath, keyPath := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
	tests := []struct {
		name     string
		f        *fakeRegistrar
		req      pkitool.RegisterCARequest
		want     []string
		wantSent bool
	}{
		{"already registered", &fakeRegistrar{code: "c", registerr: apiErr{"ResourceAlreadyExistsException", "The certificate is already provisioned or registered"}},
			pkitool.RegisterCARequest{}, []string{"register CA: ResourceAlreadyExistsException: The certificate is already provisioned or registered", "already: aws iot describe-ca-certificate --certificate-id " + ca.ID}, true},
		{"already registered, on iotcore", &fakeRegistrar{code: "c", registerr: apiErr{"ResourceAlreadyExistsException", "The certificate is already provisioned or registered"}},
			pkitool.RegisterCARequest{EndpointURL: "http://127.0.0.1:9080", Region: "us-east-2"},
			[]string{"already: aws --region us-east-2 --endpoint-url http://127.0.0.1:9080 iot describe-ca-certificate --certificate-id " + ca.ID}, true},
		{"bad credentials", &fakeRegistrar{codeErr: apiErr{"UnrecognizedClientException", "The security token included in the request is invalid."}},
			pkitool.RegisterCARequest{}, []string{"get registration code: UnrecognizedClientException", "AWS_SHARED_CREDENTIALS_FILE"}, false},
		{"server down", &fakeRegistrar{codeErr: fmt.Errorf("send: %w", &netOpError)},
			pkitool.RegisterCARequest{}, []string{"cannot reach the API", "connection refused", "endpoint URL"}, false},
		{"key of another CA", &fakeRegistrar{code: "c"},
			pkitool.RegisterCARequest{CAKeyPath: filepath.Join(dir, "other.key")}, []string{"other.key is not the key of"}, false},
		{"body and name", &fakeRegistrar{code: "c"},
			pkitool.RegisterCARequest{Config: pkitool.RegistrationConfig{TemplateBody: "{}", TemplateName: "t"}}, []string{"not both"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.req.CACertPath == "" {
				tt.req.CACertPath = certPath
			}
			if tt.req.CAKeyPath == "" {
				tt.req.CAKeyPath = keyPath
			}
			_, err := pkitool.RegisterCA(context.Background(), tt.f, tt.req)
			if err == nil {
				t.Fatal("RegisterCA succeeded")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if sent := tt.f.got != nil; sent != tt.wantSent {
				t.Errorf("RegisterCACertificate called: %v, want %v", sent, tt.wantSent)
			}
			var ae apiErr
			if tt.f.registerr != nil && !errors.As(err, &ae) {
				t.Errorf("the SDK's error is not wrapped: %v", err)
			}
		})
	}
}
