package registry_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/sqlite"
)

// The server of these tests: us-east-2, as the README's quickstart.
var testAccount = iot.Account{ID: "123456789012", Region: "us-east-2"}

// syncBuffer is a log destination that tests read while the service writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// newService returns a Service on a fresh SQLite store, its clock fixed, its
// warnings written to the returned buffer.
func newService(t *testing.T) (*registry.Service, *syncBuffer) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "iotcore.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	logs := &syncBuffer{}
	now := time.Now() // fixed: the dry run and the real path run at the same instant
	return &registry.Service{
		Store: db, Account: testAccount, IssuingCA: pkitest.NewRoot(t, "issuer"),
		Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(logs, nil)),
	}, logs
}

// registerCA registers a device CA (SNI_ONLY: no registration code needed).
func registerCA(t testing.TB, s *registry.Service, ca *pki.Authority, rc *registry.RegistrationConfig) *registry.CACertificate {
	t.Helper()
	rec, err := s.RegisterCACertificate(context.Background(), registry.RegisterCAInput{
		CACertificatePEM: pki.EncodeCertificatePEM(ca.Certificate), Mode: iot.ModeSNIOnly,
		SetAsActive: true, AllowAutoRegistration: true, Registration: rc,
	})
	if err != nil {
		t.Fatalf("RegisterCACertificate: %v", err)
	}
	return rec
}

// jitpBody is a JITP template in the shape of AWS's JITP walkthrough (seed
// 000), with the thing's groups, the policy and the override settings left
// to each case.
func jitpBody(groups, policy, overrides string) string {
	return `{"Parameters":{"AWS::IoT::Certificate::CommonName":{"Type":"String"},"AWS::IoT::Certificate::Id":{"Type":"String"}},
"Resources":{
 "thing":{"Type":"AWS::IoT::Thing","OverrideSettings":{` + overrides + `},"Properties":{"ThingName":{"Ref":"AWS::IoT::Certificate::CommonName"},
   "AttributePayload":{"version":"v1"},"ThingGroups":[` + groups + `]}},
 "certificate":{"Type":"AWS::IoT::Certificate","Properties":{"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"},"Status":"ACTIVE"}},
 "policy":{"Type":"AWS::IoT::Policy","Properties":` + policy + `}}}`
}

const connectDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:%s:123456789012:client/${iot:Connection.Thing.ThingName}"}]}`

// inlinePolicy is a template policy resource with connectDoc for region.
func inlinePolicy(region string) string {
	return fmt.Sprintf(`{"PolicyDocument":%q}`, fmt.Sprintf(connectDoc, region))
}

// snapshot is what provisioning can change, for checking that a dry run
// changed nothing.
func snapshot(t *testing.T, s *registry.Service, cert *x509.Certificate) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	things, _, err := s.ListThings(ctx, registry.ThingFilter{}, registry.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, th := range things {
		groups, _, err := s.ListThingGroupsForThing(ctx, th.Name, registry.PageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "thing %s v%d %v %v\n", th.Name, th.Version, th.Attributes, groups)
	}
	policies, _, err := s.ListPolicies(ctx, true, registry.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range policies {
		fmt.Fprintf(&b, "policy %s\n", p.Name)
	}
	id := pki.CertificateID(cert.Raw)
	c, err := s.Certificate(ctx, id)
	fmt.Fprintf(&b, "certificate: %v %v\n", c != nil && c.Status != "", err)
	if c != nil {
		fmt.Fprintf(&b, "  status %s\n", c.Status)
	}
	attached, _, err := s.ListAttachedPolicies(ctx, s.Account.CertificateARN(id), false, registry.PageRequest{})
	fmt.Fprintf(&b, "attached %v %v\n", attached, err)
	return b.String()
}

// TestPreviewDeviceAgreesWithProvisionDevice runs the dry run and then the
// real provisioning on the same plan, from the one function that renders
// JITP plans, and requires the same answer, failures included, with the
// dry run leaving the registry as it was.
func TestPreviewDeviceAgreesWithProvisionDevice(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		setup func(t *testing.T, s *registry.Service, cert *x509.Certificate, ca *registry.CACertificate)
		check func(t *testing.T, res *registry.ProvisionResult, err error)
	}{
		{
			name: "everything new",
			body: jitpBody(`"fleet"`, inlinePolicy("us-east-2"), ""),
			check: func(t *testing.T, res *registry.ProvisionResult, err error) {
				if err != nil || !res.ThingCreated || !res.CertificateCreated || len(res.PoliciesCreated) != 1 || len(res.Warnings) != 0 || res.Certificate.Status != iot.StatusActive {
					t.Errorf("got %+v, %v; want thing, certificate and policy created, ACTIVE, no warning", res, err)
				}
			},
		},
		{
			name: "thing and policy exist, attributes merged",
			body: jitpBody(`"fleet"`, `{"PolicyName":"Existing"}`, `"AttributePayload":"MERGE"`),
			setup: func(t *testing.T, s *registry.Service, cert *x509.Certificate, _ *registry.CACertificate) {
				ctx := context.Background()
				if _, err := s.CreateThing(ctx, registry.CreateThingInput{Name: cert.Subject.CommonName, Attributes: map[string]string{"site": "berlin"}}); err != nil {
					t.Fatal(err)
				}
				if _, err := s.CreatePolicy(ctx, "Existing", fmt.Sprintf(connectDoc, "us-east-2"), nil); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, res *registry.ProvisionResult, err error) {
				if err != nil || res.ThingCreated || len(res.PoliciesCreated) != 0 || len(res.Policies) != 1 {
					t.Errorf("got %+v, %v; want the thing and policy reused", res, err)
				}
			},
		},
		{
			name: "certificate left PENDING_ACTIVATION by an earlier attempt",
			body: jitpBody(`"fleet"`, inlinePolicy("us-east-2"), ""),
			setup: func(t *testing.T, s *registry.Service, cert *x509.Certificate, ca *registry.CACertificate) {
				if _, _, err := s.RegisterPending(context.Background(), cert, ca); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, res *registry.ProvisionResult, err error) {
				if err != nil || res.CertificateCreated || res.Certificate.Status != iot.StatusActive {
					t.Errorf("got %+v, %v; want the pending certificate provisioned", res, err)
				}
			},
		},
		{
			name: "missing thing group",
			body: jitpBody(`"nope"`, inlinePolicy("us-east-2"), ""),
			check: func(t *testing.T, res *registry.ProvisionResult, err error) {
				if err == nil || !strings.Contains(err.Error(), "thing-group") {
					t.Errorf("got %+v, %v; want a failure at the thing-group step", res, err)
				}
			},
		},
		{
			name: "missing named policy",
			body: jitpBody(`"fleet"`, `{"PolicyName":"Missing"}`, ""),
			check: func(t *testing.T, res *registry.ProvisionResult, err error) {
				if err == nil || !strings.Contains(err.Error(), "Missing") {
					t.Errorf("got %+v, %v; want a failure naming the policy", res, err)
				}
			},
		},
		{
			name: "policy in another region",
			body: jitpBody(`"fleet"`, inlinePolicy("eu-west-1"), ""),
			check: func(t *testing.T, res *registry.ProvisionResult, err error) {
				if err != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "names the region eu-west-1, but this server's region is us-east-2") {
					t.Errorf("got %+v, %v; want one warning about eu-west-1", res, err)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s, _ := newService(t)
			if _, err := s.CreateThingGroup(ctx, registry.ThingGroup{Name: "fleet"}, nil); err != nil {
				t.Fatal(err)
			}
			root := pkitest.NewRoot(t, "Device CA")
			ca := registerCA(t, s, root, nil)
			cert, _ := pkitest.NewClient(t, root, pkix.Name{CommonName: "dev1"})
			if tc.setup != nil {
				tc.setup(t, s, cert, ca)
			}
			plan, err := registry.PlanJITP(tc.body, cert)
			if err != nil {
				t.Fatalf("PlanJITP: %v", err)
			}
			before := snapshot(t, s, cert)
			preview, perr := s.PreviewDevice(ctx, cert, ca, plan)
			if after := snapshot(t, s, cert); after != before {
				t.Fatalf("the dry run changed the registry:\nbefore\n%s\nafter\n%s", before, after)
			}
			real, rerr := s.ProvisionDevice(ctx, cert, ca, plan)
			if fmt.Sprint(perr) != fmt.Sprint(rerr) {
				t.Fatalf("dry run error %v, real error %v", perr, rerr)
			}
			if diff := cmp.Diff(preview, real, cmpopts.IgnoreFields(registry.Certificate{}, "GenerationID"), cmpopts.IgnoreUnexported(registry.ProvisionResult{})); diff != "" {
				t.Errorf("dry run and real path disagree (-dry +real):\n%s", diff)
			}
			tc.check(t, real, rerr)
		})
	}
}

// TestSavingForeignARNsWarns saves policies and templates on a us-east-2
// server: those whose ARNs name another region or account log a warning
// naming the resource; those that match log nothing.
func TestSavingForeignARNsWarns(t *testing.T) {
	foreignTemplate := jitpBody("", inlinePolicy("eu-west-1"), "")
	homeTemplate := jitpBody("", inlinePolicy("us-east-2"), "")
	otherAccount := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-2:999999999999:topic/t"}]}`
	for _, tc := range []struct {
		name string
		save func(ctx context.Context, s *registry.Service) error
		want string // in the log; "" means no warning
	}{
		{"CreatePolicy, other region", func(ctx context.Context, s *registry.Service) error {
			_, err := s.CreatePolicy(ctx, "p", fmt.Sprintf(connectDoc, "eu-west-1"), nil)
			return err
		}, `names the region eu-west-1, but this server's region is us-east-2`},
		{"CreatePolicy, other account", func(ctx context.Context, s *registry.Service) error {
			_, err := s.CreatePolicy(ctx, "p", otherAccount, nil)
			return err
		}, `names the account 999999999999, but this server's account is 123456789012`},
		{"CreatePolicy, matching", func(ctx context.Context, s *registry.Service) error {
			_, err := s.CreatePolicy(ctx, "p", fmt.Sprintf(connectDoc, "us-east-2"), nil)
			return err
		}, ""},
		{"CreatePolicy, wildcards", func(ctx context.Context, s *registry.Service) error {
			_, err := s.CreatePolicy(ctx, "p", fmt.Sprintf(connectDoc, "*"), nil)
			return err
		}, ""},
		{"CreatePolicyVersion, other region", func(ctx context.Context, s *registry.Service) error {
			if _, err := s.CreatePolicy(ctx, "p", fmt.Sprintf(connectDoc, "us-east-2"), nil); err != nil {
				return err
			}
			_, _, err := s.CreatePolicyVersion(ctx, "p", fmt.Sprintf(connectDoc, "ap-south-1"), true)
			return err
		}, `names the region ap-south-1`},
		{"CreateProvisioningTemplate, other region", func(ctx context.Context, s *registry.Service) error {
			_, err := s.CreateProvisioningTemplate(ctx, registry.CreateProvisioningTemplateInput{Name: "jitp", Body: foreignTemplate, Type: registry.TemplateTypeJITP,
				RoleARN: "arn:aws:iam::123456789012:role/JITPRole"})
			return err
		}, `problem="policy Resources.policy: Resource \"arn:aws:iot:eu-west-1:123456789012:client/`},
		{"CreateProvisioningTemplate, matching", func(ctx context.Context, s *registry.Service) error {
			_, err := s.CreateProvisioningTemplate(ctx, registry.CreateProvisioningTemplateInput{Name: "jitp", Body: homeTemplate, Type: registry.TemplateTypeJITP,
				RoleARN: "arn:aws:iam::123456789012:role/JITPRole"})
			return err
		}, ""},
		{"CreateProvisioningTemplateVersion, other region", func(ctx context.Context, s *registry.Service) error {
			if _, err := s.CreateProvisioningTemplate(ctx, registry.CreateProvisioningTemplateInput{Name: "jitp", Body: homeTemplate, Type: registry.TemplateTypeJITP,
				RoleARN: "arn:aws:iam::123456789012:role/JITPRole"}); err != nil {
				return err
			}
			_, err := s.CreateProvisioningTemplateVersion(ctx, "jitp", foreignTemplate, false)
			return err
		}, `saved="provisioning template version"`},
		{"RegisterCACertificate with a template, other region", func(ctx context.Context, s *registry.Service) error {
			_, err := s.RegisterCACertificate(ctx, registry.RegisterCAInput{
				CACertificatePEM: pki.EncodeCertificatePEM(pkitest.NewRoot(t, "CA").Certificate), Mode: iot.ModeSNIOnly,
				Registration: &registry.RegistrationConfig{TemplateBody: foreignTemplate},
			})
			return err
		}, `saved="CA certificate registrationConfig"`},
		{"RegisterCACertificate with a template, matching", func(ctx context.Context, s *registry.Service) error {
			_, err := s.RegisterCACertificate(ctx, registry.RegisterCAInput{
				CACertificatePEM: pki.EncodeCertificatePEM(pkitest.NewRoot(t, "CA").Certificate), Mode: iot.ModeSNIOnly,
				Registration: &registry.RegistrationConfig{TemplateBody: homeTemplate},
			})
			return err
		}, ""},
		{"UpdateCACertificate with a template, other region", func(ctx context.Context, s *registry.Service) error {
			ca, err := s.RegisterCACertificate(ctx, registry.RegisterCAInput{
				CACertificatePEM: pki.EncodeCertificatePEM(pkitest.NewRoot(t, "CA").Certificate), Mode: iot.ModeSNIOnly,
			})
			if err != nil {
				return err
			}
			return s.UpdateCACertificate(ctx, registry.UpdateCAInput{ID: ca.ID, Registration: &registry.RegistrationConfig{TemplateBody: foreignTemplate}})
		}, `names the region eu-west-1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, logs := newService(t)
			if err := tc.save(context.Background(), s); err != nil {
				t.Fatal(err)
			}
			got := logs.String()
			switch {
			case tc.want == "" && got != "":
				t.Errorf("logged %q; want nothing", got)
			case tc.want != "" && (!strings.Contains(got, tc.want) || !strings.Contains(got, "level=WARN")):
				t.Errorf("logged %q; want a warning with %q", got, tc.want)
			}
		})
	}
}

// BenchmarkProvisionDevice provisions devices from a JITP template through
// the registry's one transaction (thing, certificate, policy, group,
// attachments and the attempt's record), from many goroutines at once, on
// SQLite with durable commits. Run it with -cpu 1,2,4,8,16: the rate stops
// growing where the single writer is busy all the time, which
// writer-busy/op (the writer's busy time per device) shows: its inverse is
// the ceiling on devices per second, whatever the cores.
func BenchmarkProvisionDevice(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "iotcore.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	s := &registry.Service{Store: db, Account: testAccount}
	if _, err := s.CreateThingGroup(ctx, registry.ThingGroup{Name: "fleet"}, nil); err != nil {
		b.Fatal(err)
	}
	root := pkitest.NewRoot(b, "Device CA")
	ca := registerCA(b, s, root, nil)
	body := jitpBody(`"fleet"`, inlinePolicy("us-east-2"), "")
	type device struct {
		cert *x509.Certificate
		plan registry.ProvisionPlan
	}
	devices := make([]device, b.N)
	for i := range devices {
		cert, _ := pkitest.NewClient(b, root, pkix.Name{CommonName: fmt.Sprintf("bench-%d-%d", b.N, i)})
		plan, err := registry.PlanJITP(body, cert)
		if err != nil {
			b.Fatal(err)
		}
		devices[i] = device{cert, plan}
	}
	var next atomic.Int64
	before := db.WriterStats()
	b.SetParallelism(8) // 8 goroutines per GOMAXPROCS, as devices arrive together
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d := devices[next.Add(1)-1]
			if _, err := s.ProvisionDevice(ctx, d.cert, ca, d.plan); err != nil {
				b.Error(err)
			}
		}
	})
	b.StopTimer()
	after := db.WriterStats()
	b.ReportMetric(float64(after.WriterBusy-before.WriterBusy)/float64(b.N), "writer-ns/op")
	b.ReportMetric(float64(after.Updates-before.Updates)/float64(max(1, after.Commits-before.Commits)), "updates/commit")
}

// Provisioning a new certificate skips reading back what its own
// transaction wrote (provisioning.go's carryOut): what it stores must be
// what the full checks would have stored, duplicates in the template
// included, and the policy limit must hold with nothing left behind.
func TestProvisionDeviceOfNewCertificate(t *testing.T) {
	ctx := context.Background()
	s, _ := newService(t)
	for _, g := range []string{"fleet", "line-2"} {
		if _, err := s.CreateThingGroup(ctx, registry.ThingGroup{Name: g}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreatePolicy(ctx, "Shared", fmt.Sprintf(connectDoc, "us-east-2"), nil); err != nil {
		t.Fatal(err)
	}
	root := pkitest.NewRoot(t, "Device CA")
	ca := registerCA(t, s, root, nil)
	// policies renders n policy resources: "Shared" twice, then inline
	// ones of distinct documents (named by them at provisioning).
	policies := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i < 2 {
				fmt.Fprintf(&b, `,"shared%d":{"Type":"AWS::IoT::Policy","Properties":{"PolicyName":"Shared"}}`, i)
				continue
			}
			doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-2:123456789012:client/x%d"}]}`, i)
			fmt.Fprintf(&b, `,"inline%d":{"Type":"AWS::IoT::Policy","Properties":{"PolicyDocument":%q}}`, i, doc)
		}
		return b.String()
	}
	body := func(n int) string {
		return strings.Replace(jitpBody(`"fleet","line-2","fleet"`, inlinePolicy("us-east-2"), ""),
			`"policy":{"Type"`, strings.TrimPrefix(policies(n), ",")+`,"policy":{"Type"`, 1)
	}

	cert, _ := pkitest.NewClient(t, root, pkix.Name{CommonName: "dev1"})
	plan, err := registry.PlanJITP(body(3), cert)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.ProvisionDevice(ctx, cert, ca, plan)
	if err != nil {
		t.Fatal(err)
	}
	id := pki.CertificateID(cert.Raw)
	arn := s.Account.CertificateARN(id)
	rec, err := s.Certificate(ctx, id)
	if err != nil || rec.Status != iot.StatusActive || !rec.UpdatedAt.Equal(rec.CreatedAt) {
		t.Errorf("certificate %+v, %v; want ACTIVE, updated when created", rec, err)
	}
	attached, _, err := s.ListAttachedPolicies(ctx, arn, false, registry.PageRequest{})
	if err != nil || len(attached) != 3 || !slices.Contains(attached, "Shared") {
		t.Errorf("attached policies %v, %v; want Shared, the inline one and the template's own, once each", attached, err)
	}
	groups, _, err := s.ListThingGroupsForThing(ctx, "dev1", registry.PageRequest{})
	if err != nil || !slices.Equal(groups, []string{"fleet", "line-2"}) {
		t.Errorf("groups %v, %v; want fleet and line-2", groups, err)
	}
	things, _, err := s.ListPrincipalThings(ctx, arn, "", registry.PageRequest{})
	if err != nil || len(things) != 1 || things[0].ThingName != "dev1" {
		t.Errorf("things of the certificate %v, %v; want dev1", things, err)
	}
	if !res.CertificateCreated || !res.ThingCreated {
		t.Errorf("result %+v; want certificate and thing created", res)
	}

	// Eleven distinct policies (Shared, nine inline, the template's own):
	// one more than a certificate may have.
	cert2, _ := pkitest.NewClient(t, root, pkix.Name{CommonName: "dev2"})
	plan, err = registry.PlanJITP(body(11), cert2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ProvisionDevice(ctx, cert2, ca, plan); !iot.IsCode(err, iot.LimitExceeded) && (err == nil || !strings.Contains(err.Error(), "maximum of 10 attached policies")) {
		t.Fatalf("ProvisionDevice with 11 policies: %v; want the limit of 10", err)
	}
	if _, err := s.Certificate(ctx, pki.CertificateID(cert2.Raw)); !iot.IsCode(err, iot.ResourceNotFound) {
		t.Errorf("after the failure the certificate is there (%v): the transaction left it behind", err)
	}
	if _, err := s.Thing(ctx, "dev2"); !iot.IsCode(err, iot.ResourceNotFound) {
		t.Errorf("after the failure the thing is there (%v)", err)
	}
}
