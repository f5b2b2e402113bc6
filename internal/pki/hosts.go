package pki

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
)

// Hosts is a normalised set of names for a server certificate: DNS names in
// lower case without a trailing dot, and IP addresses, each sorted and
// without duplicates.
type Hosts struct {
	DNSNames    []string
	IPAddresses []net.IP

	first string // the first host as given, normalised, for the subject CN
}

// ParseHosts normalises host names and addresses for [Authority.IssueServer].
// An IPv6 address may be written with or without brackets. It fails on an
// empty list, an empty entry, a port, a URL or anything else that is neither
// an IP address nor a DNS name.
func ParseHosts(hosts []string) (Hosts, error) {
	if len(hosts) == 0 {
		return Hosts{}, errors.New("parse hosts: no host names or addresses")
	}
	var hs Hosts
	for i, h := range hosts {
		h = strings.TrimSpace(h)
		if ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")); ip != nil {
			if v4 := ip.To4(); v4 != nil {
				ip = v4
			}
			if !slices.ContainsFunc(hs.IPAddresses, ip.Equal) {
				hs.IPAddresses = append(hs.IPAddresses, ip)
			}
			if i == 0 {
				hs.first = ip.String()
			}
			continue
		}
		name := strings.ToLower(strings.TrimSuffix(h, "."))
		if err := checkDNSName(name); err != nil {
			return Hosts{}, fmt.Errorf("parse hosts: %q: %w", hosts[i], err)
		}
		if !slices.Contains(hs.DNSNames, name) {
			hs.DNSNames = append(hs.DNSNames, name)
		}
		if i == 0 {
			hs.first = name
		}
	}
	hs.sort()
	return hs, nil
}

// certificateHosts returns the names and addresses c is valid for,
// normalised as ParseHosts does.
func certificateHosts(c *x509.Certificate) Hosts {
	var hs Hosts
	for _, name := range c.DNSNames {
		name = strings.ToLower(strings.TrimSuffix(name, "."))
		if !slices.Contains(hs.DNSNames, name) {
			hs.DNSNames = append(hs.DNSNames, name)
		}
	}
	for _, ip := range c.IPAddresses {
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		if !slices.ContainsFunc(hs.IPAddresses, ip.Equal) {
			hs.IPAddresses = append(hs.IPAddresses, ip)
		}
	}
	hs.sort()
	return hs
}

func (h *Hosts) sort() {
	slices.Sort(h.DNSNames)
	slices.SortFunc(h.IPAddresses, compareIP)
}

// compareIP orders IPv4 addresses before IPv6 ones, then by value.
func compareIP(a, b net.IP) int {
	if a4, b4 := a.To4() != nil, b.To4() != nil; a4 != b4 {
		if a4 {
			return -1
		}
		return 1
	}
	return bytes.Compare(a.To16(), b.To16())
}

// String lists the names and then the addresses, comma-separated.
func (h Hosts) String() string {
	all := slices.Clone(h.DNSNames)
	for _, ip := range h.IPAddresses {
		all = append(all, ip.String())
	}
	return strings.Join(all, ",")
}

// Equal reports whether h and o hold the same names and addresses.
func (h Hosts) Equal(o Hosts) bool {
	return slices.Equal(h.DNSNames, o.DNSNames) && slices.EqualFunc(h.IPAddresses, o.IPAddresses, net.IP.Equal)
}

// checkDNSName accepts letters, digits, hyphens and underscores in labels of
// 1 to 63 characters, and a "*" as the whole first label.
func checkDNSName(name string) error {
	if name == "" {
		return errors.New("empty host name")
	}
	if len(name) > 253 {
		return errors.New("host name longer than 253 characters")
	}
	for i, label := range strings.Split(name, ".") {
		if label == "*" && i == 0 && strings.Contains(name, ".") {
			continue
		}
		if label == "" || len(label) > 63 {
			return errors.New("not a DNS name: empty label or label longer than 63 characters")
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return fmt.Errorf("not a DNS name or IP address: character %q", r)
			}
		}
	}
	return nil
}
