package pkitool

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// oidDNQualifier is the dnQualifier attribute (X.520, 2.5.4.46), which
// pkix.Name has no field for; JITP templates read it as
// AWS::IoT::Certificate::DistinguishedNameQualifier.
var oidDNQualifier = asn1.ObjectIdentifier{2, 5, 4, 46}

// Subject is the distinguished name of a certificate or CSR, with the
// attributes AWS IoT's JITP templates read (AWS::IoT::Certificate::CommonName,
// Country, Organization, OrganizationalUnit, StateName, SerialNumber and
// DistinguishedNameQualifier) plus the locality. Empty fields are left out.
//
// SerialNumber is the subject's serialNumber attribute (a device serial such
// as "SN-0042"), not the certificate's own serial number, which is random.
type Subject struct {
	CommonName         string // CN
	Country            string // C: two letters, such as IN
	Organization       string // O
	OrganizationalUnit string // OU
	State              string // ST
	Locality           string // L
	SerialNumber       string // serialNumber
	DNQualifier        string // dnQualifier
}

// IsZero reports whether no attribute is set.
func (s Subject) IsZero() bool { return s == Subject{} }

// upper bounds of RFC 5280 appendix A (ub-common-name and friends); openssl
// refuses longer values and some devices' parsers break on them.
var subjectFields = []struct {
	name string
	get  func(Subject) string
	max  int
}{
	{"CN (common name)", func(s Subject) string { return s.CommonName }, 64},
	{"C (country)", func(s Subject) string { return s.Country }, 2},
	{"O (organization)", func(s Subject) string { return s.Organization }, 64},
	{"OU (organizational unit)", func(s Subject) string { return s.OrganizationalUnit }, 64},
	{"ST (state)", func(s Subject) string { return s.State }, 128},
	{"L (locality)", func(s Subject) string { return s.Locality }, 128},
	{"serialNumber", func(s Subject) string { return s.SerialNumber }, 64},
	{"dnQualifier", func(s Subject) string { return s.DNQualifier }, 64},
}

// Name validates s and returns it as a pkix.Name. It refuses an empty
// subject, a country that is not two ASCII letters, values with control
// characters and values longer than RFC 5280 allows.
func (s Subject) Name() (pkix.Name, error) {
	if s.IsZero() {
		return pkix.Name{}, fmt.Errorf("subject: no attribute given; set at least the common name")
	}
	if c := s.Country; c != "" && !isTwoLetters(c) {
		return pkix.Name{}, fmt.Errorf("subject: C (country) %q must be a two-letter ISO 3166 code such as IN or US", c)
	}
	for _, f := range subjectFields {
		v := f.get(s)
		if n := utf8.RuneCountInString(v); n > f.max {
			return pkix.Name{}, fmt.Errorf("subject: %s is %d characters long; the limit is %d", f.name, n, f.max)
		}
		if strings.IndexFunc(v, unicode.IsControl) >= 0 {
			return pkix.Name{}, fmt.Errorf("subject: %s %q contains a control character", f.name, v)
		}
		if v != "" && strings.TrimSpace(v) == "" {
			return pkix.Name{}, fmt.Errorf("subject: %s is blank", f.name)
		}
	}
	var n pkix.Name
	n.CommonName = s.CommonName
	n.SerialNumber = s.SerialNumber
	add := func(dst *[]string, v string) {
		if v != "" {
			*dst = []string{v}
		}
	}
	add(&n.Country, s.Country)
	add(&n.Organization, s.Organization)
	add(&n.OrganizationalUnit, s.OrganizationalUnit)
	add(&n.Province, s.State)
	add(&n.Locality, s.Locality)
	if s.DNQualifier != "" {
		n.ExtraNames = []pkix.AttributeTypeAndValue{{Type: oidDNQualifier, Value: s.DNQualifier}}
	}
	return n, nil
}

func isTwoLetters(s string) bool {
	if len(s) != 2 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}

// SubjectOf returns the attributes of a parsed name that Subject holds
// (the first value of each), for showing what a CSR or certificate carries.
func SubjectOf(n pkix.Name) Subject {
	first := func(v []string) string {
		if len(v) == 0 {
			return ""
		}
		return v[0]
	}
	s := Subject{
		CommonName:         n.CommonName,
		Country:            first(n.Country),
		Organization:       first(n.Organization),
		OrganizationalUnit: first(n.OrganizationalUnit),
		State:              first(n.Province),
		Locality:           first(n.Locality),
		SerialNumber:       n.SerialNumber,
	}
	for _, atv := range n.Names {
		if atv.Type.Equal(oidDNQualifier) {
			if v, ok := atv.Value.(string); ok {
				s.DNQualifier = v
				break
			}
		}
	}
	return s
}
