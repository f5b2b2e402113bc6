package bench

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotcore/iotcore/internal/pki"
)

const (
	testCreate   = fleetCreateTopic
	testRegister = "$aws/provisioning-templates/fleet/provision/json"
)

// publishOf is a PUBLISH from the server at qos with identifier id.
func publishOf(topic string, qos byte, id uint16, payload string) []byte {
	return appendPublish(nil, topic, qos, id, []byte(payload))
}

// sentPackets decodes what the client wrote, with mochi's codec.
func sentPackets(t *testing.T, b []byte) []packets.Packet {
	t.Helper()
	var out []packets.Packet
	for len(b) > 0 {
		n, used := 0, 1
		for shift := 0; ; shift += 7 {
			n |= int(b[used]&0x7f) << shift
			if b[used]&0x80 == 0 {
				used++
				break
			}
			used++
		}
		out = append(out, mochiDecode(t, b[:used+n]))
		b = b[used+n:]
	}
	return out
}

// TestFleetRequest checks how a request waits for its answer: it skips
// its own PUBACK and other messages, acknowledges answers sent at QoS 1,
// and tells accepted, rejected, no answer and a closed connection apart.
func TestFleetRequest(t *testing.T) {
	created := `{"certificateId":"abc","certificatePem":"PEM","privateKey":"KEY","certificateOwnershipToken":"tok"}`
	for _, tc := range []struct {
		name       string
		script     [][]byte
		want       *createdCertificate
		wantReason string // of the error, through reason()
		wantAcks   []uint16
	}{
		{"accepted after the PUBACK", [][]byte{appendPuback(nil, 1), publishOf(testCreate+"/accepted", 0, 0, created)},
			&createdCertificate{CertificateID: "abc", CertificatePEM: "PEM", PrivateKey: "KEY", CertificateOwnershipToken: "tok"}, "", nil},
		{"accepted at QoS 1 before the PUBACK", [][]byte{publishOf(testCreate+"/accepted", 1, 9, created), appendPuback(nil, 1)},
			&createdCertificate{CertificateID: "abc", CertificatePEM: "PEM", PrivateKey: "KEY", CertificateOwnershipToken: "tok"}, "", []uint16{9}},
		{"another topic first", [][]byte{publishOf(testRegister+"/accepted", 1, 3, `{}`), publishOf(testCreate+"/accepted", 0, 0, created)},
			&createdCertificate{CertificateID: "abc", CertificatePEM: "PEM", PrivateKey: "KEY", CertificateOwnershipToken: "tok"}, "", []uint16{3}},
		{"rejected", [][]byte{publishOf(testCreate+"/rejected", 0, 0, `{"statusCode":429,"errorCode":"Throttled","errorMessage":"Rate limit exceeded"}`)},
			nil, "rejected: Throttled", nil},
		{"rejected without a code", [][]byte{publishOf(testCreate+"/rejected", 0, 0, `{"statusCode":500}`)}, nil, "rejected", nil},
		{"accepted, not JSON", [][]byte{publishOf(testCreate+"/accepted", 0, 0, `{`)}, nil, "accepted answer not JSON", nil},
		{"rejected, not JSON", [][]byte{publishOf(testCreate+"/rejected", 0, 0, `x`)}, nil, "rejected answer not JSON", nil},
		{"closed", [][]byte{appendPuback(nil, 1)}, nil, "connection closed", nil},
		{"server DISCONNECT", [][]byte{{packets.Disconnect << 4, 1, 0x87}}, nil, "disconnected by the server", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, sc := scripted(tc.script...)
			var got createdCertificate
			err := request(c, testCreate, 1, []byte("{}"), &got)
			switch {
			case tc.want != nil && err != nil:
				t.Fatalf("request: %v", err)
			case tc.want != nil:
				if diff := cmp.Diff(*tc.want, got); diff != "" {
					t.Errorf("answer (-want +got):\n%s", diff)
				}
			case err == nil:
				t.Fatalf("request succeeded with %+v; want %q", got, tc.wantReason)
			case reason(err) != tc.wantReason:
				t.Errorf("reason(%v) = %q, want %q", err, reason(err), tc.wantReason)
			}
			if !sc.deadline.IsZero() {
				t.Errorf("request left a read deadline of %v", sc.deadline)
			}
			sent := sentPackets(t, sc.out.Bytes())
			if len(sent) == 0 || sent[0].FixedHeader.Type != packets.Publish || sent[0].TopicName != testCreate ||
				sent[0].FixedHeader.Qos != 1 || sent[0].PacketID != 1 || string(sent[0].Payload) != "{}" {
				t.Fatalf("sent %+v first, want the request at QoS 1", sent)
			}
			var acks []uint16
			for _, p := range sent[1:] {
				if p.FixedHeader.Type != packets.Puback {
					t.Errorf("sent %s after the request", packets.PacketNames[p.FixedHeader.Type])
				}
				acks = append(acks, p.PacketID)
			}
			if diff := cmp.Diff(tc.wantAcks, acks); diff != "" {
				t.Errorf("PUBACKs sent (-want +got):\n%s", diff)
			}
		})
	}
}

// timeoutConn is a scriptedConn whose reads, once the script is over,
// fail as a passed deadline does.
type timeoutConn struct{ scriptedConn }

func (c *timeoutConn) Read(b []byte) (int, error) {
	n, err := c.in.Read(b)
	if err == io.EOF {
		return 0, os.ErrDeadlineExceeded
	}
	return n, err
}

func TestFleetRequestNoAnswer(t *testing.T) {
	tc := &timeoutConn{scriptedConn{in: bytes.NewReader(appendPuback(nil, 1))}}
	c := &Conn{nc: tc, r: bufio.NewReader(tc), timeout: time.Second}
	err := request(c, testRegister, 2, []byte("{}"), &registeredThing{})
	var fe *fleetError
	if !errors.As(err, &fe) || reason(err) != "no answer in time" || !strings.Contains(err.Error(), testRegister+"/accepted") {
		t.Errorf("request without answer: %v (reason %q), want no answer in time", err, reason(err))
	}
}

// TestSubscribeAll checks that the four SUBSCRIBEs go out together and
// that a refusal fails with its own reason.
func TestSubscribeAll(t *testing.T) {
	filters := []string{testCreate + "/accepted", testCreate + "/rejected", testRegister + "/accepted", testRegister + "/rejected"}
	suback := func(id, code byte) []byte { return []byte{packets.Suback << 4, 3, 0, id, code} }
	t.Run("granted", func(t *testing.T) {
		c, sc := scripted(suback(1, 1), suback(2, 1), suback(3, 0), suback(4, 1))
		if err := subscribeAll(c, filters, 1); err != nil {
			t.Fatal(err)
		}
		sent := sentPackets(t, sc.out.Bytes())
		if len(sent) != 4 {
			t.Fatalf("sent %d packets, want 4 SUBSCRIBEs", len(sent))
		}
		for i, p := range sent {
			if p.FixedHeader.Type != packets.Subscribe || p.PacketID != uint16(i+1) || len(p.Filters) != 1 || p.Filters[0].Filter != filters[i] || p.Filters[0].Qos != 1 {
				t.Errorf("SUBSCRIBE %d: %+v", i, p)
			}
		}
	})
	t.Run("refused", func(t *testing.T) {
		c, _ := scripted(suback(1, 1), suback(2, 0x80))
		err := subscribeAll(c, filters, 1)
		if reason(err) != "SUBACK refused" || !strings.Contains(err.Error(), filters[1]) {
			t.Errorf("subscribeAll = %v (reason %q), want the refusal of %s", err, reason(err), filters[1])
		}
	})
}

func TestFleetCodec(t *testing.T) {
	var reg map[string]any
	if err := json.Unmarshal(encodeRegister("tok", map[string]string{"SerialNumber": "7"}), &reg); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"certificateOwnershipToken": "tok", "parameters": map[string]any{"SerialNumber": "7"}}, reg); diff != "" {
		t.Errorf("RegisterThing request (-want +got):\n%s", diff)
	}
	if got := string(encodeRegister("tok", nil)); got != `{"certificateOwnershipToken":"tok","parameters":{}}` {
		t.Errorf("RegisterThing request without parameters: %s", got)
	}

	key, body, err := csrRequest(pki.KeyECP256)
	if err != nil {
		t.Fatal(err)
	}
	var req map[string]string
	if err := json.Unmarshal(body, &req); err != nil || len(req) != 1 {
		t.Fatalf("CSR request %s: %v", body, err)
	}
	csr, err := pki.ParseCSRPEM(req["certificateSigningRequest"])
	if err != nil {
		t.Fatal(err)
	}
	if err := csr.CheckSignature(); err != nil || !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(csr.PublicKey) {
		t.Errorf("the CSR is not signed by the device's key: %v", err)
	}

	for _, tc := range []struct {
		name    string
		cc      createdCertificate
		wantKey bool
		want    string
	}{
		{"complete", createdCertificate{CertificatePEM: "p", PrivateKey: "k", CertificateOwnershipToken: "t"}, true, ""},
		{"csr, no key", createdCertificate{CertificatePEM: "p", CertificateOwnershipToken: "t"}, false, ""},
		{"no token", createdCertificate{CertificatePEM: "p", PrivateKey: "k"}, true, "accepted without certificateOwnershipToken"},
		{"no certificate", createdCertificate{PrivateKey: "k", CertificateOwnershipToken: "t"}, true, "accepted without certificatePem"},
		{"no key", createdCertificate{CertificatePEM: "p", CertificateOwnershipToken: "t"}, true, "accepted without privateKey"},
	} {
		err := tc.cc.check(tc.wantKey)
		if got := ""; err != nil {
			got = reason(err)
			if got != tc.want {
				t.Errorf("%s: reason %q, want %q", tc.name, got, tc.want)
			}
		} else if tc.want != "" {
			t.Errorf("%s: no error, want %q", tc.name, tc.want)
		}
	}
}

// TestFleetIdentity checks that the device's new identity is usable: the
// server's key, or the CSR's.
func TestFleetIdentity(t *testing.T) {
	dev := testIdentity(t, "dev")
	cert, err := x509.ParseCertificate(dev.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	key := dev.PrivateKey.(crypto.Signer)
	keyPEM, err := pki.MarshalPrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	cc := createdCertificate{CertificateID: "id", CertificatePEM: pki.EncodeCertificatePEM(cert), PrivateKey: keyPEM}
	for name, k := range map[string]any{"server's key": nil, "CSR's key": key} {
		var id tls.Certificate
		if k == nil {
			id, err = cc.identity(nil)
		} else {
			id, err = cc.identity(key)
		}
		if err != nil || len(id.Certificate) != 1 || !bytes.Equal(id.Certificate[0], cert.Raw) || id.PrivateKey == nil {
			t.Errorf("%s: identity %v, %v", name, id.Certificate, err)
		}
	}
	bad := cc
	bad.PrivateKey = ""
	if _, err := bad.identity(nil); reason(err) != "unusable certificate" {
		t.Errorf("identity without the key: %v (reason %q)", err, reason(err))
	}
}

// TestFleetSummaryText checks the text summary names the mode, the steps
// and the failures by cause.
func TestFleetSummaryText(t *testing.T) {
	var f failures
	f.add("register", &RejectedError{Topic: testRegister, StatusCode: 400, ErrorCode: "InvalidParameters", ErrorMessage: "missing SerialNumber"})
	s := &FleetSummary{Run: Run{Scenario: "fleet", Endpoint: "127.0.0.1:8883"}, Devices: 3, Concurrency: 2, Template: "fleet", Mode: "csr", KeyType: "ec-p256", Provisioned: 2, Rate: 10}
	s.finish(time.Now(), time.Now(), &f, false)
	var b bytes.Buffer
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2 of 3 devices provisioned", "CreateCertificateFromCsr, template fleet", "register thing:", "keys and CSRs (ec-p256)",
		"1 × register: rejected: InvalidParameters (first: " + testRegister + ": rejected: 400 InvalidParameters: missing SerialNumber)"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text summary lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := WriteJSON(&b, s); err != nil {
		t.Fatal(err)
	}
	var j map[string]any
	if err := json.Unmarshal(b.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	steps, _ := j["steps_ms"].(map[string]any)
	if j["scenario"] != "fleet" || j["mode"] != "csr" || j["devices_per_s"] != 10.0 || len(steps) != 6 ||
		j["failures"].(map[string]any)["register: rejected: InvalidParameters"] != 1.0 {
		t.Errorf("JSON summary %s", b.String())
	}
}

// TestMakeFleetDevices checks the devices' names and parameters, and that
// each CSR device has a key of its own.
func TestMakeFleetDevices(t *testing.T) {
	cfg := FleetConfig{Devices: 3, Prefix: "run", ClientID: "{prefix}-claim-{i}", Parameters: map[string]string{"SerialNumber": "{prefix}{i}", "Model": "m"}}
	devices, err := makeFleetDevices(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range devices {
		want := fleetDevice{i: i, clientID: "run-claim-" + strconv.Itoa(i), params: map[string]string{"SerialNumber": "run" + strconv.Itoa(i), "Model": "m"}, create: []byte("{}")}
		if diff := cmp.Diff(want, d, cmp.AllowUnexported(fleetDevice{})); diff != "" {
			t.Errorf("device %d (-want +got):\n%s", i, diff)
		}
	}
	cfg.CSR, cfg.KeyType = true, pki.KeyECP256
	if devices, err = makeFleetDevices(cfg); err != nil {
		t.Fatal(err)
	}
	if devices[0].key == nil || devices[0].key == devices[1].key || !strings.Contains(string(devices[2].create), "certificateSigningRequest") {
		t.Errorf("CSR devices: %+v", devices)
	}
}
