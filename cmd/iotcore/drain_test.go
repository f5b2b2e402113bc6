package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/server"
	"github.com/iotcore/iotcore/internal/sqlite"
)

// drainSlack is how long a server may take to exit beyond its drain:
// closing connections and the database, on a loaded machine.
const drainSlack = 15 * time.Second

// TestSIGTERMDrains checks the graceful stop of `iotcore serve`: with an
// MQTT 3.1.1 device and an MQTT 5 device connected and an API request in
// flight, SIGTERM closes both listeners, tells the MQTT 5 device 0x8B
// (server shutting down) and closes the other, lets the request finish,
// closes the database cleanly and exits 0.
func TestSIGTERMDrains(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	srv := startServe(t, bin, dir, "--account-id", crashAccount, "--region", crashRegion, "--shutdown-timeout", "1m")
	v311, v5 := srv.connectedDevices(t)

	// A CreateThing whose body is still on its way when SIGTERM comes.
	req := srv.heldRequest(t, "drain-thing")

	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	pk, err := v5.read()
	switch {
	case err != nil:
		t.Errorf("MQTT 5 device: %v, want DISCONNECT 0x8B", err)
	case pk.FixedHeader.Type != packets.Disconnect || pk.ReasonCode != packets.ErrServerShuttingDown.Code:
		t.Errorf("MQTT 5 device got %s with reason code %#x, want DISCONNECT 0x8B", packets.PacketNames[pk.FixedHeader.Type], pk.ReasonCode)
	}
	if pk, err := v311.read(); err == nil {
		t.Errorf("MQTT 3.1.1 device got %s, want the connection closed", packets.PacketNames[pk.FixedHeader.Type])
	} else if !errors.Is(closedOr(err), errDropped) {
		t.Errorf("MQTT 3.1.1 device: %v, want the connection closed", err)
	}
	waitUntil(t, "both listeners closed", func() bool {
		return refused(srv.mqttAddr) && refused(req.addr)
	})
	if !srv.running() {
		t.Fatalf("iotcore serve exited (%v) with an API request in flight", srv.waitErr)
	}

	resp := req.finish(t)
	var out struct{ ThingName string }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(resp.body, &out) != nil || out.ThingName != "drain-thing" {
		t.Errorf("the request in flight got %s %s, want 200 with the thing", resp.Status, resp.body)
	}
	finished := time.Now()
	if err := srv.wait(t); err != nil {
		t.Errorf("iotcore serve exited with %v after SIGTERM, want 0", err)
	}
	// Nothing but the request held it (its shutdown timeout is a minute).
	if took := time.Since(finished); took > drainSlack {
		t.Errorf("iotcore serve exited %v after the last request finished", took)
	}
	checkClosedCleanly(t, dir, "drain-thing")
}

// TestSIGTERMShutdownTimeout checks that --shutdown-timeout bounds the drain:
// a request that never completes is cut when it passes, and the server still
// exits 0 with its database closed cleanly.
func TestSIGTERMShutdownTimeout(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	const timeout = 2 * time.Second
	srv := startServe(t, bin, dir, "--account-id", crashAccount, "--region", crashRegion, "--shutdown-timeout", timeout.String())
	req := srv.heldRequest(t, "never-created")

	sent := time.Now()
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := srv.wait(t); err != nil {
		t.Errorf("iotcore serve exited with %v after SIGTERM, want 0", err)
	}
	switch took := time.Since(sent); {
	case took < timeout:
		t.Errorf("iotcore serve exited %v after SIGTERM, before its shutdown timeout (%v) with a request in flight", took, timeout)
	case took > timeout+drainSlack:
		t.Errorf("iotcore serve exited %v after SIGTERM, with a shutdown timeout of %v", took, timeout)
	}
	_ = req.conn.SetReadDeadline(time.Now().Add(processWait))
	if resp, err := http.ReadResponse(req.r, nil); err == nil {
		t.Errorf("the request cut by the shutdown timeout got %s, want its connection closed", resp.Status)
	}
	checkClosedCleanly(t, dir, "")
}

// connectedDevices connects an MQTT 3.1.1 and an MQTT 5 device with a
// certificate the server issues, allowed everything.
func (p *serveProcess) connectedDevices(t *testing.T) (v311, v5 *mqttConn) {
	t.Helper()
	ctx := context.Background()
	api := p.client(t)
	kc, err := api.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`
	if _, err := api.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("all"), PolicyDocument: aws.String(allowAll)}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("all"), Target: kc.CertificateArn}); err != nil {
		t.Fatal(err)
	}
	cert, err := pki.ParseCertificatePEM(*kc.CertificatePem)
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.ParsePrivateKeyPEM(*kc.KeyPair.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := p.tlsConfig(tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key})
	dial := func(id string, version byte) *mqttConn {
		c, ack, err := mqttDial(p.mqttAddr, cfg, id, version)
		if err != nil {
			t.Fatalf("connect %s: %v", id, err)
		}
		t.Cleanup(func() { c.Close() })
		if ack.ReasonCode != 0 {
			t.Fatalf("connect %s: CONNACK %#x", id, ack.ReasonCode)
		}
		_ = c.SetReadDeadline(time.Now().Add(processWait))
		return c
	}
	return dial("drain-311", 4), dial("drain-5", 5)
}

// heldRequest is a signed CreateThing whose headers are sent and whose
// handler is reading the body, which the test sends when it wants.
type heldRequest struct {
	addr string
	conn net.Conn
	r    *bufio.Reader
	body []byte
}

// heldRequest sends the headers of a signed CreateThing request with
// "Expect: 100-continue" and waits for the server's 100 Continue, which net/http
// sends when the handler starts reading the body: the request is in flight.
func (p *serveProcess) heldRequest(t *testing.T, thing string) *heldRequest {
	t.Helper()
	body := []byte(`{"attributePayload":{"attributes":{"drained":"yes"}}}`)
	hr, err := http.NewRequest(http.MethodPost, p.endpoint+"/things/"+thing, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/json")
	id, secret := p.credentials(t)
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: secret},
		hr, hex.EncodeToString(sum[:]), "iot", crashRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Expect", "100-continue")
	var wire bytes.Buffer
	if err := hr.Write(&wire); err != nil {
		t.Fatal(err)
	}
	head, rest, ok := bytes.Cut(wire.Bytes(), []byte("\r\n\r\n"))
	if !ok || !bytes.Equal(rest, body) {
		t.Fatalf("unexpected request encoding %q", wire.Bytes())
	}
	u, err := url.Parse(p.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, processWait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(processWait))
	if _, err := conn.Write(append(head, "\r\n\r\n"...)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, hr)
	if err != nil || resp.StatusCode != http.StatusContinue {
		t.Fatalf("waiting for 100 Continue: %v %v", resp, err)
	}
	return &heldRequest{addr: u.Host, conn: conn, r: r, body: body}
}

type response struct {
	*http.Response
	body []byte
}

// finish sends the rest of the request and reads the response.
func (h *heldRequest) finish(t *testing.T) response {
	t.Helper()
	if _, err := h.conn.Write(h.body); err != nil {
		t.Fatalf("send the body of the request in flight: %v", err)
	}
	resp, err := http.ReadResponse(h.r, nil)
	if err != nil {
		t.Fatalf("read the response to the request in flight: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp, b}
}

// refused reports whether a TCP connection to addr is refused.
func refused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, processWait)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// checkClosedCleanly checks the database of a server that has exited: its
// write-ahead log was folded back and removed (SQLite does that when the
// last connection closes), it passes its integrity check, and it holds the
// thing, if one is named.
func checkClosedCleanly(t *testing.T, dir, thing string) {
	t.Helper()
	path := filepath.Join(dir, server.DatabaseFile)
	if st, err := os.Stat(path + "-wal"); err == nil {
		t.Errorf("the database's write-ahead log is left behind (%d bytes): it was not closed", st.Size())
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
	if thing == "" {
		return
	}
	err = db.View(ctx, func(tx registry.Tx) error {
		th, err := tx.Thing(ctx, thing)
		if err == nil && th.Attributes["drained"] != "yes" {
			t.Errorf("thing %s has the attributes %v", thing, th.Attributes)
		}
		return err
	})
	if err != nil {
		t.Errorf("the thing the drained request created: %v", err)
	}
}
