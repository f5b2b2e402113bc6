package broker

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"

	"github.com/iotcore/iotcore/internal/policy"
	"github.com/iotcore/iotcore/internal/registry"
)

// Subject attribute OIDs for certificate policy variables (reference 7.3).
var attributeOIDs = []struct {
	name string
	oid  asn1.ObjectIdentifier
}{
	{"CommonName", asn1.ObjectIdentifier{2, 5, 4, 3}},
	{"Surname", asn1.ObjectIdentifier{2, 5, 4, 4}},
	{"SerialNumber", asn1.ObjectIdentifier{2, 5, 4, 5}},
	{"Country", asn1.ObjectIdentifier{2, 5, 4, 6}},
	{"State", asn1.ObjectIdentifier{2, 5, 4, 8}},
	{"Organization", asn1.ObjectIdentifier{2, 5, 4, 10}},
	{"OrganizationalUnit", asn1.ObjectIdentifier{2, 5, 4, 11}},
	{"Title", asn1.ObjectIdentifier{2, 5, 4, 12}},
	{"GivenName", asn1.ObjectIdentifier{2, 5, 4, 42}},
	{"Initials", asn1.ObjectIdentifier{2, 5, 4, 43}},
	{"GenerationQualifier", asn1.ObjectIdentifier{2, 5, 4, 44}},
	{"DistinguishedNameQualifier", asn1.ObjectIdentifier{2, 5, 4, 46}},
	{"Pseudonym", asn1.ObjectIdentifier{2, 5, 4, 65}},
}

// connectionVariables builds the policy variables of one connection: client
// id, certificate id and attributes, and the thing the connection is for.
func connectionVariables(clientID, certID string, cert *x509.Certificate, thing *registry.ThingWithPrincipal) policy.Vars {
	v := policy.Vars{
		"iot:ClientId":                 clientID,
		"iot:CertificateId":            certID,
		"iot:Certificate.SerialNumber": cert.SerialNumber.String(),
	}
	addName(v, "iot:Certificate.Subject.", cert.Subject)
	addName(v, "iot:Certificate.Issuer.", cert.Issuer)
	for i, n := range cert.DNSNames {
		addIndexed(v, "iot:Certificate.Subject.AlternativeName.DNSName", i, n)
	}
	for i, n := range cert.EmailAddresses {
		addIndexed(v, "iot:Certificate.Subject.AlternativeName.RFC822Name", i, n)
	}
	for i, u := range cert.URIs {
		addIndexed(v, "iot:Certificate.Subject.AlternativeName.UniformResourceIdentifier", i, u.String())
	}
	for i, ip := range cert.IPAddresses {
		addIndexed(v, "iot:Certificate.Subject.AlternativeName.IPAddress", i, ip.String())
	}
	v["iot:Connection.Thing.IsAttached"] = "false"
	if thing != nil {
		v["iot:Connection.Thing.IsAttached"] = "true"
		v["iot:Connection.Thing.ThingName"] = thing.Name
		if thing.TypeName != "" {
			v["iot:Connection.Thing.ThingTypeName"] = thing.TypeName
		}
		for k, val := range thing.Attributes {
			v["iot:Connection.Thing.Attributes["+k+"]"] = val
		}
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, strings.TrimPrefix(k, "iot:"))
	}
	v["iot:Certificate.AvailableKeys"] = strings.Join(keys, ",")
	return v
}

// addName adds prefix+Attr for each subject attribute: the bare name is the
// first value, Attr.N the value at index N (AWS's documented example counts
// the first as 0).
func addName(v policy.Vars, prefix string, name pkix.Name) {
	for _, a := range attributeOIDs {
		i := 0
		for _, atv := range name.Names {
			if !atv.Type.Equal(a.oid) {
				continue
			}
			s, ok := atv.Value.(string)
			if !ok {
				continue
			}
			addIndexed(v, prefix+a.name, i, s)
			i++
		}
	}
}

func addIndexed(v policy.Vars, key string, i int, value string) {
	if i == 0 {
		v[key] = value
	}
	if i < 5 { // AWS truncates arrays to 5 items
		v[key+"."+itoa(i)] = value
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

// connectionThing picks the thing whose policy variables a connection gets:
// the attached thing named by the client id, or else an exclusively attached
// thing (reference 7.3).
func connectionThing(clientID string, things []registry.ThingWithPrincipal) *registry.ThingWithPrincipal {
	for i := range things {
		if things[i].Name == clientID {
			return &things[i]
		}
	}
	for i := range things {
		if things[i].AttachmentType == "EXCLUSIVE_THING" {
			return &things[i]
		}
	}
	return nil
}
