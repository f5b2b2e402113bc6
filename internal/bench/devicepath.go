package bench

import (
	"crypto/tls"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

// How a device connects matters to the server's cost per connect: the key
// exchange it offers (Go offers the hybrid post-quantum X25519MLKEM768
// first, which most device TLS stacks (mbedTLS, OpenSSL 3.0, the AWS CRT)
// do not), whether it presents its CA after its certificate (as the
// seeds' deviceCertAndCACert.crt does), and whether it writes each MQTT
// packet as a TLS record of its own (as device SDKs do) or gathers them.
// Endpoint carries the choice; every summary reports what was asked and
// what was negotiated.

// KeyExchange names the key exchange groups a client offers.
type KeyExchange string

// The key exchanges a run may offer.
const (
	// KeyExchangeGo offers Go's default list: X25519MLKEM768 first, then
	// X25519, P-256, P-384, P-521. A Go server picks X25519MLKEM768.
	KeyExchangeGo KeyExchange = "go-default"
	// KeyExchangeX25519 offers X25519 alone: OpenSSL 3.0's and mbedTLS's
	// first choice, the AWS CRT's (s2n) too.
	KeyExchangeX25519 KeyExchange = "x25519"
	// KeyExchangeP256 offers P-256 alone (ECDHE secp256r1): small TLS
	// stacks built without Curve25519.
	KeyExchangeP256 KeyExchange = "p256"
	// KeyExchangeMLKEM offers X25519MLKEM768 alone.
	KeyExchangeMLKEM KeyExchange = "x25519mlkem768"
)

// KeyExchanges are the values ParseKeyExchange accepts.
var KeyExchanges = []KeyExchange{KeyExchangeGo, KeyExchangeX25519, KeyExchangeP256, KeyExchangeMLKEM}

// ParseKeyExchange reads a --key-exchange value.
func ParseKeyExchange(s string) (KeyExchange, error) {
	k := KeyExchange(strings.ToLower(s))
	if !slices.Contains(KeyExchanges, k) {
		return "", fmt.Errorf("key exchange %q: want one of %v", s, KeyExchanges)
	}
	return k, nil
}

// curves is the tls.Config.CurvePreferences of k; nil means Go's default.
func (k KeyExchange) curves() []tls.CurveID {
	switch k {
	case KeyExchangeX25519:
		return []tls.CurveID{tls.X25519}
	case KeyExchangeP256:
		return []tls.CurveID{tls.CurveP256}
	case KeyExchangeMLKEM:
		return []tls.CurveID{tls.X25519MLKEM768}
	}
	return nil
}

// TLSReport says how a run's clients connected: what they offered and
// what the handshakes negotiated.
type TLSReport struct {
	// KeyExchange is what the clients offered (KeyExchange's values).
	KeyExchange KeyExchange `json:"key_exchange"`
	// Negotiated counts completed handshakes by TLS version and group, such
	// as "TLS 1.3 X25519" or "TLS 1.3 CurveP256" (Go's names): 0 handshakes when none completed.
	Negotiated map[string]int64 `json:"negotiated"`
	// ChainCertificates is how many certificates the clients presented:
	// 1 for the device certificate alone, 2 with its CA.
	ChainCertificates int `json:"chain_certificates"`
	// PacketPerRecord is true when each MQTT packet went in a TLS record of
	// its own; false when the clients gathered packets into records of up
	// to 16 KiB.
	PacketPerRecord bool `json:"packet_per_record"`
}

// handshakes records what the handshakes of a run negotiated.
type handshakes struct {
	mu     sync.Mutex
	groups map[string]int64
	chain  int
}

func (h *handshakes) record(st tls.ConnectionState, chain int) {
	if h == nil {
		return
	}
	key := tls.VersionName(st.Version) + " " + st.CurveID.String()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.groups == nil {
		h.groups = map[string]int64{}
	}
	h.groups[key]++
	h.chain = max(h.chain, chain)
}

// report is what e's handshakes have negotiated so far.
func (e Endpoint) report() TLSReport {
	r := TLSReport{KeyExchange: e.KeyExchange, PacketPerRecord: e.PacketPerRecord, Negotiated: map[string]int64{}}
	if r.KeyExchange == "" {
		r.KeyExchange = KeyExchangeGo
	}
	if h := e.seen; h != nil {
		h.mu.Lock()
		for k, v := range h.groups {
			r.Negotiated[k] = v
		}
		r.ChainCertificates = h.chain
		h.mu.Unlock()
	}
	return r
}

// withRecorder returns e with a fresh record of its handshakes.
func (e Endpoint) withRecorder() Endpoint {
	e.seen = &handshakes{}
	return e
}

// writeText writes the report for people.
func (r TLSReport) writeText(w io.Writer) {
	records := "packets gathered into records"
	if r.PacketPerRecord {
		records = "one TLS record per packet"
	}
	var neg []string
	for k, v := range r.Negotiated {
		neg = append(neg, fmt.Sprintf("%s ×%d", k, v))
	}
	slices.Sort(neg)
	fmt.Fprintf(w, "  tls: offered %s; negotiated %s; %d certificate(s) presented; %s\n",
		r.KeyExchange, strings.Join(neg, ", "), r.ChainCertificates, records)
}
