package provision

import (
	"context"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/sqlite"
)

// TestDryRunAgreesWithProvision runs DryRun, then Provision, for the same
// certificate and CA: both must answer the same, from the same plan as the
// offline Check, and the dry run must leave no trace. A device whose
// policies name another region gets a warning, recorded in its attempt.
func TestDryRunAgreesWithProvision(t *testing.T) {
	text, err := os.ReadFile("../../examples/jitp_template.json")
	if err != nil {
		t.Fatal(err)
	}
	seed, err := TemplateBody(string(text))
	if err != nil {
		t.Fatal(err)
	}
	foreign := strings.Replace(seed, `arn:aws:iot:us-east-2:`, `arn:aws:iot:eu-west-1:`, 1)
	for _, tc := range []struct {
		name        string
		body        string // "" registers the CA for JITR
		subject     pkix.Name
		wantKind    Kind
		wantStatus  string
		wantStep    string
		wantWarning string // in the result and the attempt's reason
	}{
		{"seed template", seed, pkix.Name{CommonName: "DemoThing", Country: []string{"IN"}}, JITP, iot.StatusActive, "", ""},
		{"certificate without C", seed, pkix.Name{CommonName: "NoCountry"}, JITP, iot.StatusPendingActivation, "render", ""},
		{"JITR", "", pkix.Name{CommonName: "Registered"}, JITR, iot.StatusPendingActivation, "", ""},
		{"policy in another region", foreign, pkix.Name{CommonName: "Abroad", Country: []string{"IN"}}, JITP, iot.StatusActive, "",
			"names the region eu-west-1, but this server's region is us-east-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantWarning != "" && foreign == seed {
				t.Fatal("the seed template has no ARN to make foreign")
			}
			ctx := context.Background()
			db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "iotcore.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			now := time.Now()
			reg := &registry.Service{Store: db, Account: iot.Account{ID: "123456789012", Region: "us-east-2"}, Now: func() time.Time { return now }}
			root := pkitest.NewRoot(t, "Device CA")
			in := registry.RegisterCAInput{CACertificatePEM: pki.EncodeCertificatePEM(root.Certificate), Mode: iot.ModeSNIOnly, SetAsActive: true, AllowAutoRegistration: true}
			if tc.body != "" {
				in.Registration = &registry.RegistrationConfig{TemplateBody: tc.body}
			}
			ca, err := reg.RegisterCACertificate(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			cert, _ := pkitest.NewClient(t, root, tc.subject)
			p := &Provisioner{Registry: reg, Now: func() time.Time { return now }}

			dry, dryErr := p.DryRun(ctx, cert, ca)
			if _, err := reg.Certificate(ctx, pki.CertificateID(cert.Raw)); !iot.IsCode(err, iot.ResourceNotFound) {
				t.Fatalf("after the dry run the certificate is registered (%v)", err)
			}
			if attempts, _, _ := reg.ListProvisioningAttempts(ctx, registry.ProvisioningAttemptFilter{}, registry.PageRequest{}); len(attempts) != 0 {
				t.Fatalf("the dry run recorded %d attempts", len(attempts))
			}
			real, realErr := p.Provision(ctx, cert, ca)
			if (dryErr == nil) != (realErr == nil) {
				t.Fatalf("dry run error %v, real error %v", dryErr, realErr)
			}
			if diff := cmp.Diff(dry, real); diff != "" {
				t.Errorf("dry run and Provision disagree (-dry +real):\n%s", diff)
			}
			if real.Kind != tc.wantKind || real.Status != tc.wantStatus || real.Step != tc.wantStep {
				t.Errorf("got %s %s step %q (%s); want %s %s step %q", real.Kind, real.Status, real.Step, real.Reason, tc.wantKind, tc.wantStatus, tc.wantStep)
			}
			if tc.body != "" && tc.wantStep == "" {
				plan, err := Check(tc.body, cert)
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				if diff := cmp.Diff(&plan, real.Plan); diff != "" {
					t.Errorf("Check's plan is not the one provisioning carried out (-check +real):\n%s", diff)
				}
			}
			attempts, _, err := reg.ListProvisioningAttempts(ctx, registry.ProvisioningAttemptFilter{}, registry.PageRequest{})
			if err != nil || len(attempts) != 1 {
				t.Fatalf("attempts: %v, %v", attempts, err)
			}
			if got := strings.Join(real.Warnings, "\n"); !strings.Contains(got, tc.wantWarning) || (tc.wantWarning == "") != (got == "") {
				t.Errorf("warnings %q; want %q", got, tc.wantWarning)
			}
			if tc.wantWarning != "" && !strings.Contains(attempts[0].Reason, tc.wantWarning) {
				t.Errorf("attempt reason %q; want the warning %q", attempts[0].Reason, tc.wantWarning)
			}
		})
	}
}
