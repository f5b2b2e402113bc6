package bench

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DefaultClientID is the client ID template of the fixed-identity scenarios:
// the certificate's CN (on iotcore and AWS, its thing's name), the role of
// the connection (c: connect, i: idle, p: publisher, s: subscriber) and its
// index, such as DemoThing-p0. A policy that allows
// client/${iot:Connection.Thing.ThingName}-* allows them.
const DefaultClientID = "{cn}-{role}{i}"

// commonName is the subject CN of cert's first certificate.
func commonName(cert tls.Certificate) (string, error) {
	leaf := cert.Leaf
	if leaf == nil {
		if len(cert.Certificate) == 0 {
			return "", errors.New("no certificate")
		}
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return "", fmt.Errorf("parse certificate: %w", err)
		}
	}
	return leaf.Subject.CommonName, nil
}

// expand fills a client ID or topic template: {cn}, {role} and {i}.
func expand(tmpl, cn, role string, i int) string {
	if !strings.Contains(tmpl, "{") {
		return tmpl
	}
	return strings.NewReplacer("{cn}", cn, "{role}", role, "{i}", strconv.Itoa(i)).Replace(tmpl)
}

// checkClientID checks a client ID template for n connections that share
// one identity: with more than one, the template must hold {i}, or they
// would take each other over.
func checkClientID(tmpl string, n int) error {
	if n > 1 && !strings.Contains(tmpl, "{i}") {
		return fmt.Errorf("client id %q has no {i}: %d connections would share one client ID and take each other over", tmpl, n)
	}
	return nil
}

// clientID fills a client ID template ("" means DefaultClientID) for
// connection i of a role presenting cert.
func clientID(tmpl string, cert tls.Certificate, role string, i int) (string, error) {
	if tmpl == "" {
		tmpl = DefaultClientID
	}
	cn := ""
	if strings.Contains(tmpl, "{cn}") {
		var err error
		if cn, err = commonName(cert); err != nil {
			return "", fmt.Errorf("client id: %w", err)
		}
		if cn == "" {
			return "", fmt.Errorf("client id %q: the certificate has no CN", tmpl)
		}
	}
	return expand(tmpl, cn, role, i), nil
}

// clientIDs names the n connections of one role that present cert.
func clientIDs(tmpl string, cert tls.Certificate, role string, n int) ([]string, error) {
	if tmpl == "" {
		tmpl = DefaultClientID
	}
	if err := checkClientID(tmpl, n); err != nil {
		return nil, err
	}
	ids := make([]string, n)
	for i := range ids {
		var err error
		if ids[i], err = clientID(tmpl, cert, role, i); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// NewPrefix is a name prefix no earlier run used, bench- and eight hex
// digits, for the things a run creates.
func NewPrefix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return "bench-" + hex.EncodeToString(b)
}
