package pki_test

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// startTLSServer serves mutual TLS on loopback the way the gateway will: the
// server certificate from LoadOrCreateServerCertificate, client certificates
// required and verified against clientCAs. Each connection that completes
// the handshake is sent "ok".
func startTLSServer(t *testing.T, cert tls.Certificate, clientCAs ...*x509.Certificate) string {
	t.Helper()
	pool := x509.NewCertPool()
	for _, c := range clientCAs {
		pool.AddCert(c)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				if conn.(*tls.Conn).Handshake() == nil {
					conn.Write([]byte("ok"))
				}
			})
		}
	})
	return ln.Addr().String()
}

func TestMutualTLS(t *testing.T) {
	now := time.Now()
	dir := t.TempDir()
	root, _, err := pki.LoadOrCreateAuthority(filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key"), caSubject, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	service, _, err := pki.LoadOrCreateAuthority(filepath.Join(dir, "service-ca.pem"), filepath.Join(dir, "service-ca.key"),
		pkix.Name{CommonName: "iotcore Service CA"}, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	serverCert, _, err := pki.LoadOrCreateServerCertificate(root, filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key"),
		[]string{"localhost", "127.0.0.1"}, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	deviceRoot := pkitest.NewRoot(t, "Device Root")
	deviceInter := pkitest.NewIntermediate(t, deviceRoot, "Device Issuing CA")
	stranger := pkitest.NewRoot(t, "Stranger")
	addr := startTLSServer(t, serverCert, service.Certificate, deviceRoot.Certificate)

	clientCert := func(ca *pki.Authority, kt pki.KeyType, withChain bool) tls.Certificate {
		key := pkitest.NewKey(t, kt)
		leaf, err := ca.IssueClient(key.Public(), pkix.Name{CommonName: "device-" + string(kt)}, now.Add(-time.Minute), now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		c := tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: crypto.Signer(key)}
		if withChain {
			c.Certificate = append(c.Certificate, ca.Certificate.Raw)
		}
		return c
	}
	roots := x509.NewCertPool()
	roots.AddCert(root.Certificate)

	tests := []struct {
		name       string
		serverName string
		cert       tls.Certificate
		maxVersion uint16
		wantErr    bool
	}{
		{"service CA client, by name", "localhost", clientCert(service, pki.KeyECP256, false), 0, false},
		{"service CA client, by IP", "127.0.0.1", clientCert(service, pki.KeyECP256, false), 0, false},
		{"RSA client, TLS 1.2 as mosquitto_pub --tls-version tlsv1.2", "localhost", clientCert(service, pki.KeyRSA2048, false), tls.VersionTLS12, false},
		{"device sends leaf and intermediate", "localhost", clientCert(deviceInter, pki.KeyECP384, true), 0, false},
		{"device without its intermediate", "localhost", clientCert(deviceInter, pki.KeyECP256, false), 0, true},
		{"device of an unknown CA", "localhost", clientCert(stranger, pki.KeyECP256, false), 0, true},
		{"wrong server name", "iot.example.com", clientCert(service, pki.KeyECP256, false), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, &tls.Config{
				RootCAs:      roots,
				ServerName:   tt.serverName,
				Certificates: []tls.Certificate{tt.cert},
				MaxVersion:   tt.maxVersion,
			})
			if err == nil {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				var buf [2]byte
				_, err = io.ReadFull(conn, buf[:])
				if err == nil && string(buf[:]) != "ok" {
					err = errors.New("unexpected reply " + string(buf[:]))
				}
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("connection error = %v, want error %t", err, tt.wantErr)
			}
		})
	}
}
