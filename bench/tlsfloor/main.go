// Command tlsfloor is the bare Go mutual-TLS floor that bench/compare.sh
// measures the MQTT servers against: the least any Go server pays for a
// device's connect. It accepts TLS connections (TLS 1.3 when the client
// offers it) that must present a certificate signed by --client-ca, reads
// one MQTT CONNECT, answers CONNACK "accepted", and then holds the
// connection, answering PINGREQ and discarding everything else, until the
// client sends DISCONNECT or closes it. There is no session, no
// authorization and no routing: `iotcore bench connect` and `iotcore bench
// idle` run against it, pubsub and jitp do not.
//
// Usage:
//
//	go run ./bench/tlsfloor --addr 127.0.0.1:8884 --cert server.pem --key server.key --client-ca ca.pem
//
// It prints "listening on ADDR" once it accepts connections.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"time"
)

// MQTT 3.1.1 control packet types [MQTT-2.2.1] and the fixed packets this
// server sends.
const (
	typeConnect    = 1
	typePingreq    = 12
	typeDisconnect = 14
)

var (
	connackAccepted = []byte{0x20, 0x02, 0x00, 0x00} // [MQTT-3.2.2.3] return code 0
	pingresp        = []byte{0xd0, 0x00}             // [MQTT-3.13]
)

// connectTimeout bounds the TLS handshake and the CONNECT that follows it.
const connectTimeout = 10 * time.Second

// maxPacket bounds a packet's remaining length; longer ones end the
// connection.
const maxPacket = 256 * 1024

func main() {
	addr := flag.String("addr", "127.0.0.1:8884", "address to listen on")
	certFile := flag.String("cert", "", "server certificate (PEM), optionally followed by its chain")
	keyFile := flag.String("key", "", "server private key (PEM)")
	caFile := flag.String("client-ca", "", "CA certificates (PEM) that client certificates must chain to")
	flag.Parse()
	if *certFile == "" || *keyFile == "" || *caFile == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: tlsfloor --addr HOST:PORT --cert FILE --key FILE --client-ca FILE")
		os.Exit(2)
	}
	if err := run(*addr, *certFile, *keyFile, *caFile); err != nil {
		log.Fatalf("tlsfloor: %v", err)
	}
}

func run(addr, certFile, keyFile, caFile string) error {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return fmt.Errorf("load server certificate: %w", err)
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return fmt.Errorf("read client CA: %w", err)
	}
	clientCAs := x509.NewCertPool()
	if !clientCAs.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("read client CA: no PEM certificate in %s", caFile)
	}
	ln, err := tls.Listen("tcp", addr, &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCAs,
		MinVersion:   tls.VersionTLS12,
	})
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	fmt.Printf("listening on %s\n", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Out of file descriptors, say: wait a little, as net/http does.
			log.Printf("tlsfloor: accept: %v", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go serve(c.(*tls.Conn))
	}
}

// serve completes the handshake, accepts one CONNECT and holds the
// connection until DISCONNECT, EOF or an error.
func serve(c *tls.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(connectTimeout))
	if err := c.Handshake(); err != nil {
		return
	}
	// The first packet must be CONNECT [MQTT-3.1.0-1]; its contents are
	// not looked at.
	if typ, err := skipPacket(c); err != nil || typ != typeConnect {
		return
	}
	if _, err := c.Write(connackAccepted); err != nil {
		return
	}
	_ = c.SetDeadline(time.Time{})
	for {
		typ, err := skipPacket(c)
		if err != nil || typ == typeDisconnect {
			return
		}
		if typ == typePingreq {
			if _, err := c.Write(pingresp); err != nil {
				return
			}
		}
	}
}

// skipPacket reads one control packet's fixed header and discards the rest
// of it, returning its type.
func skipPacket(r io.Reader) (byte, error) {
	var b [1]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, err
	}
	typ := b[0] >> 4
	// The remaining length: a variable byte integer of at most four bytes
	// [MQTT-2.2.3].
	n, shift := 0, 0
	for i := 0; ; i++ {
		if i == 4 {
			return 0, errors.New("malformed remaining length")
		}
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, err
		}
		n |= int(b[0]&0x7f) << shift
		shift += 7
		if b[0]&0x80 == 0 {
			break
		}
	}
	if n > maxPacket {
		return 0, fmt.Errorf("packet of %d bytes", n)
	}
	if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
		return 0, err
	}
	return typ, nil
}
