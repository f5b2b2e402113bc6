package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/registry"
)

// domainCertificates serves the custom domains of domain configurations
// (CreateDomainConfiguration with a domainName): a device that connects
// with that server name (SNI) gets a server certificate for it, issued by
// the root CA devices trust and kept in memory; one whose domain
// configuration is DISABLED is refused at the handshake, as AWS refuses
// devices of a disabled domain. Other names get the server's own
// certificate.
type domainCertificates struct {
	registry *registry.Service
	ca       *pki.Authority
	log      *slog.Logger

	mu      sync.RWMutex
	enabled map[string]bool             // domain name (maybe *.wildcard) → ENABLED
	certs   map[string]*tls.Certificate // issued, by domain name
}

// reload reads the domain configurations again; the API's changes and
// other nodes' call it.
func (d *domainCertificates) reload(ctx context.Context) error {
	served, err := d.registry.ServedDomains(ctx)
	if err != nil {
		return fmt.Errorf("read the domain configurations: %w", err)
	}
	enabled := make(map[string]bool, len(served))
	for _, dc := range served {
		enabled[dc.DomainName] = dc.Status == registry.DomainEnabled
	}
	d.mu.Lock()
	d.enabled = enabled
	for name := range d.certs {
		if _, ok := enabled[name]; !ok {
			delete(d.certs, name) // deleted: AWS no longer serves its certificate
		}
	}
	d.mu.Unlock()
	return nil
}

// reloadOn reloads when events change a domain configuration.
func (d *domainCertificates) reloadOn(events []registry.Event) {
	for _, e := range events {
		if e.Kind == registry.DomainConfigurationChanged {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := d.reload(ctx); err != nil {
				d.log.Error("domain configurations not reloaded; the certificates served may be stale", "error", err)
			}
			return
		}
	}
}

// domain returns the domain configuration's name that serves host: the
// name itself, or a wildcard one level up.
func (d *domainCertificates) domain(host string) (name string, enabled, ok bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if e, ok := d.enabled[host]; ok {
		return host, e, true
	}
	if _, rest, found := strings.Cut(host, "."); found {
		if e, ok := d.enabled["*."+rest]; ok {
			return "*." + rest, e, true
		}
	}
	return "", false, false
}

// GetCertificate is the TLS listeners' tls.Config.GetCertificate.
func (d *domainCertificates) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	host := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	if host == "" {
		return nil, nil
	}
	name, enabled, ok := d.domain(host)
	switch {
	case !ok:
		return nil, nil // the server's own certificate
	case !enabled:
		return nil, fmt.Errorf("the domain configuration of %s is DISABLED", name)
	}
	d.mu.RLock()
	cert := d.certs[name]
	d.mu.RUnlock()
	now := time.Now()
	if cert != nil && now.Before(cert.Leaf.NotAfter.Add(-pki.ServerRenewBefore)) {
		return cert, nil
	}
	issued, err := pki.NewServerCertificate(d.ca, []string{name}, 0, now)
	if err != nil {
		d.log.Error("no server certificate for a custom domain", "domain", name, "error", err)
		return nil, err
	}
	d.mu.Lock()
	if d.certs == nil {
		d.certs = map[string]*tls.Certificate{}
	}
	d.certs[name] = &issued
	d.mu.Unlock()
	return &issued, nil
}
