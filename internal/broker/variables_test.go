package broker

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/policy"
	"github.com/iotcore/iotcore/internal/registry"
)

// certificateWith makes a self-signed certificate with the given subject,
// issuer and subject alternative names.
func certificateWith(t *testing.T, tmpl *x509.Certificate) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// Every certificate and thing variable of reference 7.3, as a policy sees
// it: subject and issuer attributes (the first value bare, each value by
// index), the subject alternative names, the serial number, and the
// connection's thing.
func TestConnectionVariables(t *testing.T) {
	u, _ := url.Parse("spiffe://fleet/sensor-1")
	cert := certificateWith(t, &x509.Certificate{
		SerialNumber: big.NewInt(4660),
		Subject: pkix.Name{
			CommonName: "sensor-1", Country: []string{"IN"}, Organization: []string{"Acme"},
			OrganizationalUnit: []string{"line-2", "plant-a"}, Province: []string{"KA"},
			SerialNumber: "SN1",
		},
		DNSNames:       []string{"sensor-1.example.com", "s1.example.com"},
		EmailAddresses: []string{"ops@example.com"},
		URIs:           []*url.URL{u},
		IPAddresses:    []net.IP{net.IPv4(10, 0, 0, 7)},
	})
	// (Go writes the values of one attribute in DER SET OF order, sorted:
	// the indices follow it.)
	thing := &registry.ThingWithPrincipal{
		Thing:          registry.Thing{Name: "sensor-1", TypeName: "thermostat", Attributes: map[string]string{"floor": "3"}},
		AttachmentType: "EXCLUSIVE_THING",
	}
	got := connectionVariables("client-9", "cert-id", cert, thing)
	want := policy.Vars{
		"iot:ClientId":                                                        "client-9",
		"iot:CertificateId":                                                   "cert-id",
		"iot:Certificate.SerialNumber":                                        "4660",
		"iot:Certificate.Subject.CommonName":                                  "sensor-1",
		"iot:Certificate.Subject.CommonName.0":                                "sensor-1",
		"iot:Certificate.Subject.Country":                                     "IN",
		"iot:Certificate.Subject.Country.0":                                   "IN",
		"iot:Certificate.Subject.Organization":                                "Acme",
		"iot:Certificate.Subject.Organization.0":                              "Acme",
		"iot:Certificate.Subject.OrganizationalUnit":                          "line-2",
		"iot:Certificate.Subject.OrganizationalUnit.0":                        "line-2",
		"iot:Certificate.Subject.OrganizationalUnit.1":                        "plant-a",
		"iot:Certificate.Subject.State":                                       "KA",
		"iot:Certificate.Subject.State.0":                                     "KA",
		"iot:Certificate.Subject.SerialNumber":                                "SN1",
		"iot:Certificate.Subject.SerialNumber.0":                              "SN1",
		"iot:Certificate.Subject.AlternativeName.DNSName":                     "sensor-1.example.com",
		"iot:Certificate.Subject.AlternativeName.DNSName.0":                   "sensor-1.example.com",
		"iot:Certificate.Subject.AlternativeName.DNSName.1":                   "s1.example.com",
		"iot:Certificate.Subject.AlternativeName.RFC822Name":                  "ops@example.com",
		"iot:Certificate.Subject.AlternativeName.RFC822Name.0":                "ops@example.com",
		"iot:Certificate.Subject.AlternativeName.UniformResourceIdentifier":   "spiffe://fleet/sensor-1",
		"iot:Certificate.Subject.AlternativeName.UniformResourceIdentifier.0": "spiffe://fleet/sensor-1",
		"iot:Certificate.Subject.AlternativeName.IPAddress":                   "10.0.0.7",
		"iot:Certificate.Subject.AlternativeName.IPAddress.0":                 "10.0.0.7",
		"iot:Connection.Thing.IsAttached":                                     "true",
		"iot:Connection.Thing.ThingName":                                      "sensor-1",
		"iot:Connection.Thing.ThingTypeName":                                  "thermostat",
		"iot:Connection.Thing.Attributes[floor]":                              "3",
	}
	// Self-signed: the issuer is the subject.
	for k, v := range want {
		if rest, ok := strings.CutPrefix(k, "iot:Certificate.Subject."); ok && !strings.HasPrefix(rest, "AlternativeName") {
			want["iot:Certificate.Issuer."+rest] = v
		}
	}
	keys := got["iot:Certificate.AvailableKeys"]
	delete(got, "iot:Certificate.AvailableKeys")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("variables (-want +got):\n%s", diff)
	}
	// AvailableKeys lists every variable, without its iot: prefix.
	listed := map[string]bool{}
	for _, k := range strings.Split(keys, ",") {
		listed[k] = true
	}
	for k := range want {
		if !listed[strings.TrimPrefix(k, "iot:")] {
			t.Errorf("AvailableKeys lacks %s", k)
		}
	}
}

func TestConnectionVariablesWithoutThing(t *testing.T) {
	cert := certificateWith(t, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"}})
	got := connectionVariables("x", "id", cert, nil)
	if got["iot:Connection.Thing.IsAttached"] != "false" {
		t.Errorf("IsAttached = %q, want false", got["iot:Connection.Thing.IsAttached"])
	}
	for k := range got {
		if strings.HasPrefix(k, "iot:Connection.Thing.") && k != "iot:Connection.Thing.IsAttached" {
			t.Errorf("%s set with no thing", k)
		}
	}
}

// Subject attributes past the fifth are not indexed (AWS truncates arrays
// to five items).
func TestConnectionVariablesTruncateAtFive(t *testing.T) {
	cert := certificateWith(t, &x509.Certificate{SerialNumber: big.NewInt(1),
		Subject: pkix.Name{CommonName: "x", OrganizationalUnit: []string{"a", "b", "c", "d", "e", "f"}}})
	got := connectionVariables("x", "id", cert, nil)
	if got["iot:Certificate.Subject.OrganizationalUnit.4"] != "e" {
		t.Errorf("OU.4 = %q, want e", got["iot:Certificate.Subject.OrganizationalUnit.4"])
	}
	if v, ok := got["iot:Certificate.Subject.OrganizationalUnit.5"]; ok {
		t.Errorf("OU.5 = %q, want none", v)
	}
}

// The connection's thing is the attached thing named by the client id, else
// the one attached exclusively, else none (reference 7.3).
func TestConnectionThing(t *testing.T) {
	thing := func(name, kind string) registry.ThingWithPrincipal {
		return registry.ThingWithPrincipal{Thing: registry.Thing{Name: name}, AttachmentType: kind}
	}
	for _, tc := range []struct {
		name     string
		clientID string
		things   []registry.ThingWithPrincipal
		want     string
	}{
		{"named by client id", "b", []registry.ThingWithPrincipal{thing("a", "EXCLUSIVE_THING"), thing("b", "NON_EXCLUSIVE_THING")}, "b"},
		{"exclusive", "z", []registry.ThingWithPrincipal{thing("a", "NON_EXCLUSIVE_THING"), thing("b", "EXCLUSIVE_THING")}, "b"},
		{"none exclusive", "z", []registry.ThingWithPrincipal{thing("a", "NON_EXCLUSIVE_THING")}, ""},
		{"no things", "z", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := connectionThing(tc.clientID, tc.things)
			name := ""
			if got != nil {
				name = got.Name
			}
			if name != tc.want {
				t.Errorf("thing %q, want %q", name, tc.want)
			}
		})
	}
}

// Authorize adds AWS's fixed rules to the policies: event topics are
// subscribe-only, reserved topics cannot be retained, and retaining needs
// iot:RetainPublish as well as iot:Publish.
func TestSessionAuthorize(t *testing.T) {
	ca := newTestCA(t)
	d := newDevice(t, ca, "sensor")
	publishOnly := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Connect","iot:Publish","iot:Subscribe","iot:Receive"],"Resource":"*"}]}`
	for _, tc := range []struct {
		doc    string
		action Action
		topic  string
		want   bool
	}{
		{allowAll, Publish, "$aws/events/presence/connected/x", false},
		{allowAll, Publish, "$iotcore/anything", false},
		{allowAll, Subscribe, "$aws/events/presence/connected/+", true},
		{allowAll, Receive, "$aws/events/presence/connected/x", true},
		{allowAll, RetainPublish, "$aws/things/x/shadow/update", false},
		{allowAll, RetainPublish, "sensor/state", true},
		{publishOnly, RetainPublish, "sensor/state", false},
		{publishOnly, Publish, "sensor/state", true},
		{allowAll, Connect, "sensor", true},
	} {
		reg := &fakeRegistry{}
		pc := activeContext(d, nil)
		pc.Policies = []registry.NamedPolicy{{Name: "p", Document: tc.doc}}
		reg.set(d.id, pc)
		g := &Gatekeeper{Registry: reg, Account: testAccount}
		s, err := connect(g, d, "sensor", nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Authorize(tc.action, tc.topic); got != tc.want {
			t.Errorf("Authorize(%d, %q) with %s = %v, want %v", tc.action, tc.topic, tc.doc, got, tc.want)
		}
		s.Close(DisconnectInfo{ClientInitiated: true})
	}
}
