package template

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
)

// subjectAttributes are the certificate subject attributes JITP offers to
// templates, with the words an explanation uses for them.
var subjectAttributes = []struct {
	param       string
	oid         asn1.ObjectIdentifier
	short, long string
}{
	{ParamCommonName, asn1.ObjectIdentifier{2, 5, 4, 3}, "CN", "common name"},
	{ParamCountry, asn1.ObjectIdentifier{2, 5, 4, 6}, "C", "country"},
	{ParamOrganization, asn1.ObjectIdentifier{2, 5, 4, 10}, "O", "organization"},
	{ParamOrganizationalUnit, asn1.ObjectIdentifier{2, 5, 4, 11}, "OU", "organizational unit"},
	{ParamDistinguishedNameQualifier, asn1.ObjectIdentifier{2, 5, 4, 46}, "dnQualifier", "distinguished name qualifier"},
	{ParamStateName, asn1.ObjectIdentifier{2, 5, 4, 8}, "ST", "state or province"},
	{ParamSerialNumber, asn1.ObjectIdentifier{2, 5, 4, 5}, "serialNumber", "serial number"},
}

// CertificateParameters returns the eight AWS::IoT::Certificate::*
// parameters AWS derives from a device certificate for JITP
// [DOC jit-provisioning], and, for each one it cannot give, why:
//
//   - CommonName, Country, Organization, OrganizationalUnit,
//     DistinguishedNameQualifier, StateName: the subject's CN, C, O, OU,
//     dnQualifier and ST attributes;
//   - SerialNumber: the subject's serialNumber attribute (OID 2.5.4.5),
//     not the certificate's serial number — AWS says the values are
//     "limited to what JITP can extract from the subject field" (whether
//     AWS falls back to the certificate serial is not documented);
//   - Id: certificateID, the ID iotcore gives the certificate (AWS: "an
//     internally generated ID, not an ID that is contained in the
//     certificate").
//
// When the subject has an attribute more than once (OU=a, OU=b), the value
// is the first in the order the certificate encodes them (AWS does not say;
// its policy variables take the first value too). An attribute present
// with an empty value gives an empty parameter.
//
// A parameter whose attribute is absent is not in params; missing maps it
// to an explanation such as "the certificate subject has no C (country)
// attribute", for Render.
func CertificateParameters(cert *x509.Certificate, certificateID string) (params, missing map[string]string) {
	params = make(map[string]string, len(CertificateParameterNames))
	missing = map[string]string{}
	for _, a := range subjectAttributes {
		if cert == nil {
			missing[a.param] = "there is no certificate"
			continue
		}
		found := false
		for _, atv := range cert.Subject.Names {
			if atv.Type.Equal(a.oid) {
				params[a.param] = attributeString(atv.Value)
				found = true
				break
			}
		}
		if !found {
			why := fmt.Sprintf("the certificate subject has no %s (%s) attribute", a.short, a.long)
			if a.param == ParamSerialNumber {
				why = "the certificate subject has no serialNumber attribute (OID 2.5.4.5); the certificate's own serial number is not used"
			}
			missing[a.param] = why
		}
	}
	if certificateID != "" {
		params[ParamID] = certificateID
	} else {
		missing[ParamID] = "the certificate has no ID yet"
	}
	return params, missing
}

// attributeString returns an attribute value as text. crypto/x509 parses
// every string type to a Go string and refuses certificates with other
// types; the fallback is for values built by hand.
func attributeString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}
