package template

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func rdn(oid asn1.ObjectIdentifier, values ...string) pkix.RelativeDistinguishedNameSET {
	var set pkix.RelativeDistinguishedNameSET
	for _, v := range values {
		set = append(set, pkix.AttributeTypeAndValue{Type: oid, Value: v})
	}
	return set
}

var (
	oidCN     = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidC      = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidO      = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOU     = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidST     = asn1.ObjectIdentifier{2, 5, 4, 8}
	oidL      = asn1.ObjectIdentifier{2, 5, 4, 7}
	oidDNQ    = asn1.ObjectIdentifier{2, 5, 4, 46}
	oidSerial = asn1.ObjectIdentifier{2, 5, 4, 5}
)

const testID = "2ca0a660778300cb9c58e9fd7767ace7a66a08b026f488d1930b895f894db5fe"

func TestCertificateParameters(t *testing.T) {
	absent := map[string]string{
		ParamCommonName:                 "the certificate subject has no CN (common name) attribute",
		ParamCountry:                    "the certificate subject has no C (country) attribute",
		ParamOrganization:               "the certificate subject has no O (organization) attribute",
		ParamOrganizationalUnit:         "the certificate subject has no OU (organizational unit) attribute",
		ParamDistinguishedNameQualifier: "the certificate subject has no dnQualifier (distinguished name qualifier) attribute",
		ParamStateName:                  "the certificate subject has no ST (state or province) attribute",
		ParamSerialNumber:               "the certificate subject has no serialNumber attribute (OID 2.5.4.5); the certificate's own serial number is not used",
	}
	without := func(names ...string) map[string]string {
		m := map[string]string{}
		for k, v := range absent {
			m[k] = v
		}
		for _, n := range names {
			delete(m, n)
		}
		return m
	}
	tests := []struct {
		name        string
		subject     pkix.RDNSequence
		id          string
		wantParams  map[string]string
		wantMissing map[string]string
	}{
		{
			name:        "seed 000 device: CN and C",
			subject:     pkix.RDNSequence{rdn(oidC, "IN"), rdn(oidCN, "DemoThing")},
			id:          testID,
			wantParams:  map[string]string{ParamCommonName: "DemoThing", ParamCountry: "IN", ParamID: testID},
			wantMissing: without(ParamCommonName, ParamCountry),
		},
		{
			name: "every attribute, and L which is not a parameter",
			subject: pkix.RDNSequence{rdn(oidC, "ES"), rdn(oidST, "Gipuzkoa"), rdn(oidL, "Arrasate"), rdn(oidO, "testCAName"),
				rdn(oidOU, "Lamassu"), rdn(oidCN, "testdeviceLamassu"), rdn(oidDNQ, "q"), rdn(oidSerial, "SN-1")},
			id: testID,
			wantParams: map[string]string{ParamCountry: "ES", ParamStateName: "Gipuzkoa", ParamOrganization: "testCAName",
				ParamOrganizationalUnit: "Lamassu", ParamCommonName: "testdeviceLamassu", ParamDistinguishedNameQualifier: "q",
				ParamSerialNumber: "SN-1", ParamID: testID},
			wantMissing: map[string]string{},
		},
		{
			name:        "empty subject",
			id:          testID,
			wantParams:  map[string]string{ParamID: testID},
			wantMissing: without(),
		},
		{
			name:        "repeated attribute: the first in encoding order",
			subject:     pkix.RDNSequence{rdn(oidOU, "first"), rdn(oidCN, "c"), rdn(oidOU, "second")},
			id:          testID,
			wantParams:  map[string]string{ParamOrganizationalUnit: "first", ParamCommonName: "c", ParamID: testID},
			wantMissing: without(ParamOrganizationalUnit, ParamCommonName),
		},
		{
			name:        "multi-valued RDN (OU=a+OU=b): the first value",
			subject:     pkix.RDNSequence{rdn(oidOU, "a", "b")},
			id:          testID,
			wantParams:  map[string]string{ParamOrganizationalUnit: "a", ParamID: testID},
			wantMissing: without(ParamOrganizationalUnit),
		},
		{
			name:        "empty value is present",
			subject:     pkix.RDNSequence{rdn(oidCN, "")},
			id:          testID,
			wantParams:  map[string]string{ParamCommonName: "", ParamID: testID},
			wantMissing: without(ParamCommonName),
		},
		{
			name:       "no certificate ID",
			subject:    pkix.RDNSequence{rdn(oidCN, "c")},
			wantParams: map[string]string{ParamCommonName: "c"},
			wantMissing: func() map[string]string {
				m := without(ParamCommonName)
				m[ParamID] = "the certificate has no ID yet"
				return m
			}(),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cert := newCert(t, tc.subject)
			params, missing := CertificateParameters(cert, tc.id)
			if diff := cmp.Diff(tc.wantParams, params); diff != "" {
				t.Errorf("params mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantMissing, missing); diff != "" {
				t.Errorf("missing mismatch (-want +got):\n%s", diff)
			}
			for name := range params {
				if _, both := missing[name]; both {
					t.Errorf("%s is both given and missing", name)
				}
			}
		})
	}
}

func TestCertificateParametersSerialIsNotCertificateSerial(t *testing.T) {
	cert := newCert(t, pkix.RDNSequence{rdn(oidCN, "c")})
	if cert.SerialNumber.Sign() == 0 {
		t.Fatal("test certificate has no serial number")
	}
	params, missing := CertificateParameters(cert, testID)
	if v, ok := params[ParamSerialNumber]; ok {
		t.Errorf("SerialNumber = %q from a subject without serialNumber; want absent", v)
	}
	if missing[ParamSerialNumber] == "" {
		t.Error("SerialNumber has no explanation")
	}
}

func TestCertificateParametersNilCertificate(t *testing.T) {
	params, missing := CertificateParameters(nil, testID)
	if diff := cmp.Diff(map[string]string{ParamID: testID}, params); diff != "" {
		t.Errorf("params mismatch (-want +got):\n%s", diff)
	}
	if len(missing) != 7 {
		t.Errorf("missing has %d entries, want 7: %v", len(missing), missing)
	}
}

// TestCertificateParametersHandBuilt covers a certificate value built in
// memory, whose attributes need not be strings.
func TestCertificateParametersHandBuilt(t *testing.T) {
	cert := &x509.Certificate{Subject: pkix.Name{Names: []pkix.AttributeTypeAndValue{{Type: oidCN, Value: 42}}}}
	params, _ := CertificateParameters(cert, testID)
	if got := params[ParamCommonName]; got != "42" {
		t.Errorf("CommonName = %q, want %q", got, "42")
	}
}

// TestRenderWithCertificate is the JITP call: Render takes what
// CertificateParameters returns.
func TestRenderWithCertificate(t *testing.T) {
	tmpl, err := Parse(`{"Parameters": {"AWS::IoT::Certificate::Country": {"Type": "String"}},
		"Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"},
		"AttributePayload": {"country": {"Ref": "AWS::IoT::Certificate::Country"}}}}}}`)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tmpl.Render(CertificateParameters(newCert(t, pkix.RDNSequence{rdn(oidCN, "DemoThing"), rdn(oidC, "IN")}), testID))
	if err != nil {
		t.Fatal(err)
	}
	if res.Thing.ThingName != "DemoThing" || res.Thing.Attributes["country"] != "IN" {
		t.Errorf("got thing %+v", res.Thing)
	}
	_, err = tmpl.Render(CertificateParameters(newCert(t, pkix.RDNSequence{rdn(oidCN, "DemoThing")}), testID))
	want := `Resources.thing.Properties.AttributePayload.country: parameter "AWS::IoT::Certificate::Country" has no value: the certificate subject has no C (country) attribute`
	if err == nil || err.Error() != want {
		t.Errorf("got error %v, want %s", err, want)
	}
}
