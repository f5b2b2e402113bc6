package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	"github.com/mochi-mqtt/server/v2/packets"

	iotcore "github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/server"
	"github.com/iotcore/iotcore/internal/sqlite"
)

// The JITP storm of TestJITPStormSurvivesSIGKILL: stormDevices devices,
// stormWorkers of them connecting at a time; the server is killed once
// killAfter of them are provisioned, which leaves most still to go.
const (
	stormDevices = 400
	stormWorkers = 24
	killAfter    = stormDevices / 4
)

// processWait bounds every wait on the server process; only a failure waits
// this long.
const processWait = 60 * time.Second

const (
	crashAccount = "123456789012"
	crashRegion  = "us-east-1"
)

// TestJITPStormSurvivesSIGKILL kills the server with SIGKILL in the middle of
// a JITP storm, and checks DESIGN.md's promise: the database passes its
// integrity check, and every device is either fully provisioned or left as
// AWS would leave it (no record, or PENDING_ACTIVATION with nothing
// attached), never half. After a restart, one more connection of every
// device provisions the rest.
func TestJITPStormSurvivesSIGKILL(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	args := []string{"--account-id", crashAccount, "--region", crashRegion}
	srv := startServe(t, bin, dir, args...)
	api := srv.client(t)
	ctx := context.Background()

	ca := pkitest.NewRoot(t, "Crash Test Factory CA")
	caID := registerJITPCA(t, api, ca, seed000Template(t, crashAccount))
	devices := makeDevices(t, ca, stormDevices)

	// The storm: every device connects once, as a device does on its first
	// start; the server provisions it and drops the connection (AWS).
	stormCtx, stopStorm := context.WithCancel(ctx)
	var storm sync.WaitGroup
	var next atomic.Int64
	for range stormWorkers {
		storm.Go(func() {
			for stormCtx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(devices) {
					return
				}
				d := devices[i]
				// Errors are expected once the server is killed; what
				// counts is what the database holds afterwards.
				d.stormAck, d.stormErr = mqttConnect(srv.mqttAddr, srv.tlsConfig(d.cert), d.name, 4)
			}
		})
	}
	waitUntil(t, fmt.Sprintf("%d devices provisioned", killAfter), func() bool {
		return srv.metric(t, `iotcore_provisioning_attempts_total`, `outcome="PROVISIONED"`) >= killAfter
	})
	srv.kill(t)
	stopStorm()
	storm.Wait()
	started := int(min(next.Load(), stormDevices))

	// Right after the crash, before any restart.
	counts := checkDevices(t, filepath.Join(dir, server.DatabaseFile), caID, devices, false)
	t.Logf("SIGKILL after %d provisioned (metric); %d of %d devices had started connecting: %d fully provisioned, %d PENDING_ACTIVATION, %d without any record",
		killAfter, started, stormDevices, counts[stateProvisioned], counts[statePending], counts[stateAbsent])
	if counts[stateProvisioned] < killAfter {
		t.Errorf("%d devices fully provisioned, but the server reported %d before the kill", counts[stateProvisioned], killAfter)
	}
	if counts[stateProvisioned] == stormDevices {
		t.Errorf("all %d devices were provisioned before the kill: the crash hit no storm", stormDevices)
	}
	if t.Failed() {
		return
	}

	// Restart on the same data directory; every device connects once more.
	srv = startServe(t, bin, dir, args...)
	var again sync.WaitGroup
	var failures atomic.Int64
	work := make(chan *stormDevice)
	for range stormWorkers {
		again.Go(func() {
			for d := range work {
				ack, err := mqttConnect(srv.mqttAddr, srv.tlsConfig(d.cert), d.name, 4)
				want := "dropped (provisioned now)"
				ok := errors.Is(err, errDropped)
				if d.afterCrash == stateProvisioned {
					want, ok = "CONNACK 0", err == nil && ack == 0
				}
				if !ok && failures.Add(1) <= 10 {
					t.Errorf("device %s (%s after the crash) reconnecting: CONNACK %d, error %v; want %s", d.name, d.afterCrash, ack, err, want)
				}
			}
		})
	}
	for _, d := range devices {
		work <- d
	}
	close(work)
	again.Wait()
	if n := srv.metric(t, `iotcore_provisioning_attempts_total`, `outcome="PROVISIONED"`); n != float64(stormDevices-counts[stateProvisioned]) {
		t.Errorf("after the restart, %v devices provisioned; want the %d that were not", n, stormDevices-counts[stateProvisioned])
	}
	srv.stop(t)
	final := checkDevices(t, filepath.Join(dir, server.DatabaseFile), caID, devices, true)
	if final[stateProvisioned] != stormDevices {
		t.Errorf("in the end %d of %d devices are fully provisioned", final[stateProvisioned], stormDevices)
	}
}

// stormDevice is one device of the storm: its certificate, and what
// became of it.
type stormDevice struct {
	name string // CN, and so thing name and client id
	cert tls.Certificate
	id   string // certificate id

	stormAck   byte
	stormErr   error
	afterCrash deviceState
}

// makeDevices issues n device certificates (ECDSA P-256, CN device-<i>,
// C=IN as seed 000's template needs) from ca.
func makeDevices(t *testing.T, ca *pki.Authority, n int) []*stormDevice {
	t.Helper()
	out := make([]*stormDevice, n)
	for i := range out {
		name := fmt.Sprintf("device-%04d", i)
		cert, key := pkitest.NewClient(t, ca, pkix.Name{CommonName: name, Country: []string{"IN"}})
		out[i] = &stormDevice{
			name: name,
			// The device presents its certificate and its CA, as seed 000 does.
			cert: tls.Certificate{Certificate: [][]byte{cert.Raw, ca.Certificate.Raw}, PrivateKey: key, Leaf: cert},
			id:   pki.CertificateID(cert.Raw),
		}
	}
	return out
}

// deviceState is what the registry holds of one device.
type deviceState int

const (
	stateAbsent      deviceState = iota // no record at all
	statePending                        // PENDING_ACTIVATION, nothing attached
	stateProvisioned                    // everything the template says
)

func (s deviceState) String() string {
	return [...]string{"absent", "PENDING_ACTIVATION", "provisioned"}[s]
}

// checkDevices opens the database of a server that is not running, checks
// its integrity and classifies every device, failing the test for any
// device provisioned by half. It returns how many devices are in each state.
func checkDevices(t *testing.T, path, caID string, devices []*stormDevice, final bool) map[deviceState]int {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("open the database after the server stopped: %v", err)
	}
	defer db.Close()
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatalf("integrity check: %v", err)
	}
	return checkDevicesIn(t, db, caID, devices, final)
}

// checkDevicesIn classifies every device as checkDevices does, in the
// registry store db.
func checkDevicesIn(t *testing.T, db registry.Store, caID string, devices []*stormDevice, final bool) map[deviceState]int {
	t.Helper()
	ctx := context.Background()
	account := iotcore.Account{ID: crashAccount, Region: crashRegion}
	counts := map[deviceState]int{}
	var policyName string
	err := db.View(ctx, func(tx registry.Tx) error {
		for _, d := range devices {
			state, problem, policy := inspectDevice(ctx, tx, account, caID, d)
			if problem != "" {
				t.Errorf("device %s (storm: CONNACK %d, %v) is half provisioned: %s", d.name, d.stormAck, d.stormErr, problem)
				continue
			}
			if policy != "" {
				if policyName != "" && policy != policyName {
					t.Errorf("device %s has the policy %s, others %s", d.name, policy, policyName)
				}
				policyName = policy
			}
			if !final {
				d.afterCrash = state
			}
			counts[state]++
		}
		// Nothing else was created: no thing or certificate without its device.
		things, err := tx.ListThings(ctx, registry.ThingFilter{}, registry.Page{})
		if err != nil {
			return err
		}
		certs, err := tx.ListCertificates(ctx, registry.CertificateFilter{}, registry.Page{})
		if err != nil {
			return err
		}
		if len(things) != counts[stateProvisioned] || len(certs) != counts[stateProvisioned]+counts[statePending] {
			t.Errorf("%d things and %d certificates for %d provisioned and %d pending devices", len(things), len(certs), counts[stateProvisioned], counts[statePending])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return counts
}

// inspectDevice says what the registry holds of d, or what is wrong with
// it, and the name of the policy attached to its certificate.
func inspectDevice(ctx context.Context, tx registry.Tx, account iotcore.Account, caID string, d *stormDevice) (state deviceState, problem, policy string) {
	arn := account.CertificateARN(d.id)
	thing, thingErr := tx.Thing(ctx, d.name)
	things, err := tx.ListPrincipalThings(ctx, arn, registry.Page{})
	if err != nil {
		return 0, "list its things: " + err.Error(), ""
	}
	policies, err := tx.ListTargetPolicies(ctx, arn, registry.Page{})
	if err != nil {
		return 0, "list its policies: " + err.Error(), ""
	}
	cert, err := tx.Certificate(ctx, d.id)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		state = stateAbsent
	case err != nil:
		return 0, "read its certificate: " + err.Error(), ""
	case cert.Status == iotcore.StatusPendingActivation:
		state = statePending
	case cert.Status == iotcore.StatusActive:
		state = stateProvisioned
	default:
		return 0, "its certificate is " + cert.Status, ""
	}
	if state != stateProvisioned {
		// AWS's leftovers: nothing but (perhaps) the pending certificate.
		switch {
		case thingErr == nil:
			return 0, fmt.Sprintf("certificate %s, but its thing exists", state), ""
		case !errors.Is(thingErr, registry.ErrNotFound):
			return 0, "read its thing: " + thingErr.Error(), ""
		case len(things) > 0 || len(policies) > 0:
			return 0, fmt.Sprintf("certificate %s, but attached to things %v and policies %v", state, things, policies), ""
		}
		return state, "", ""
	}
	switch {
	case cert.CAID != caID:
		return 0, "its certificate names the CA " + cert.CAID, ""
	case thingErr != nil:
		return 0, "its certificate is ACTIVE, but its thing: " + thingErr.Error(), ""
	case thing.Attributes["version"] != "v1" || thing.Attributes["country"] != "IN":
		return 0, fmt.Sprintf("its thing has the attributes %v", thing.Attributes), ""
	case len(things) != 1 || things[0].ThingName != d.name:
		return 0, fmt.Sprintf("its certificate is attached to the things %v", things), ""
	case len(policies) != 1:
		return 0, fmt.Sprintf("its certificate has the policies %v", policies), ""
	}
	p, err := tx.Policy(ctx, policies[0])
	if err != nil {
		return 0, "its policy " + policies[0] + ": " + err.Error(), ""
	}
	v, err := tx.PolicyVersion(ctx, p.Name, p.DefaultVersion)
	if err != nil {
		return 0, "its policy " + p.Name + ": " + err.Error(), ""
	}
	if !strings.Contains(v.Document, "${iot:Connection.Thing.ThingName}") {
		return 0, "its policy " + p.Name + " is not the template's", ""
	}
	return stateProvisioned, "", p.Name
}

// seed000Template is seed 000's first JITP template: the thing named by the
// certificate's CN with the attributes version and country, the certificate
// ACTIVE, and a policy given by its document, scoped to the thing.
func seed000Template(t *testing.T, account string) string {
	t.Helper()
	arn := func(resource string) string {
		return "arn:aws:iot:" + crashRegion + ":" + account + ":" + resource + "/${iot:Connection.Thing.ThingName}"
	}
	doc, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{"Effect": "Allow", "Action": []string{"iot:Connect"}, "Resource": []string{arn("client")}},
			{"Effect": "Allow", "Action": []string{"iot:Publish", "iot:Receive"}, "Resource": []string{arn("topic") + "/*"}},
			{"Effect": "Allow", "Action": []string{"iot:Subscribe"}, "Resource": []string{arn("topicfilter") + "/*"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ref := func(name string) map[string]string { return map[string]string{"Ref": name} }
	body, err := json.Marshal(map[string]any{
		"Parameters": map[string]any{
			"AWS::IoT::Certificate::CommonName": map[string]string{"Type": "String"},
			"AWS::IoT::Certificate::Country":    map[string]string{"Type": "String"},
			"AWS::IoT::Certificate::Id":         map[string]string{"Type": "String"},
		},
		"Resources": map[string]any{
			"thing": map[string]any{"Type": "AWS::IoT::Thing", "Properties": map[string]any{
				"ThingName":        ref("AWS::IoT::Certificate::CommonName"),
				"AttributePayload": map[string]any{"version": "v1", "country": ref("AWS::IoT::Certificate::Country")},
			}},
			"certificate": map[string]any{"Type": "AWS::IoT::Certificate", "Properties": map[string]any{
				"CertificateId": ref("AWS::IoT::Certificate::Id"), "Status": "ACTIVE",
			}},
			"policy": map[string]any{"Type": "AWS::IoT::Policy", "Properties": map[string]any{"PolicyDocument": string(doc)}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// registerJITPCA registers ca (ACTIVE, auto-registration on) with the JITP
// template body, and returns its id.
func registerJITPCA(t *testing.T, api *iot.Client, ca *pki.Authority, template string) string {
	t.Helper()
	ctx := context.Background()
	code, err := api.GetRegistrationCode(ctx, &iot.GetRegistrationCodeInput{})
	if err != nil {
		t.Fatal(err)
	}
	key := pkitest.NewKey(t, pki.KeyECP256)
	now := time.Now()
	ver, err := ca.IssueVerification(key.Public(), *code.RegistrationCode, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	out, err := api.RegisterCACertificate(ctx, &iot.RegisterCACertificateInput{
		CaCertificate:           aws.String(pki.EncodeCertificatePEM(ca.Certificate)),
		VerificationCertificate: aws.String(pki.EncodeCertificatePEM(ver)),
		SetAsActive:             true,
		AllowAutoRegistration:   true,
		RegistrationConfig: &types.RegistrationConfig{
			TemplateBody: aws.String(template),
			RoleArn:      aws.String("arn:aws:iam::" + crashAccount + ":role/JITPRole"),
		},
	})
	if err != nil {
		t.Fatalf("register the CA: %v", err)
	}
	return *out.CertificateId
}

// waitUntil polls cond until it holds, failing the test after processWait.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(processWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", processWait, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// serveProcess is `iotcore serve` run by a test: unlike startBinary, it
// keeps the server's log for the test's report and lets the test see how
// the process ended.
type serveProcess struct {
	cmd      *exec.Cmd
	dataDir  string
	endpoint string         // the API URL
	mqttAddr string         // host:port
	wsAddr   string         // host:port of MQTT over WebSocket, "" if off
	roots    *x509.CertPool // the server's root CA, which devices trust
	log      *lockedBuffer  // its standard error
	out      lockedBuffer   // its standard output, as far as read
	exited   chan struct{}  // closed when the process has exited
	waitErr  error          // cmd.Wait's error, once exited is closed
}

// startServe runs `iotcore serve` on loopback ports with the data directory
// dataDir, and waits until it prints its endpoint. When the test ends, a
// server still running is stopped with SIGTERM (and must exit 0); a failed
// test gets its log.
func startServe(t *testing.T, bin, dataDir string, args ...string) *serveProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--data-dir", dataDir, "--api-addr", "127.0.0.1:0", "--mqtt-addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{cmd: cmd, dataDir: dataDir, log: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	type welcome struct{ endpoint, mqttPort, ws string }
	found := make(chan welcome, 1)
	go func() {
		var w welcome
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			p.out.Write([]byte(line + "\n"))
			if m := mqttLine.FindStringSubmatch(line); m != nil {
				w.mqttPort = m[1]
			}
			if m := wsLine.FindStringSubmatch(line); m != nil {
				w.ws = m[1]
			}
			if m := endpointLine.FindStringSubmatch(line); m != nil {
				w.endpoint = m[1]
				select {
				case found <- w:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.stop(t)
		}
		if t.Failed() {
			t.Logf("iotcore serve log:\n%s", p.log.tail(100))
		}
	})
	select {
	case w := <-found:
		p.endpoint, p.mqttAddr, p.wsAddr = w.endpoint, "127.0.0.1:"+w.mqttPort, w.ws
		pem, err := os.ReadFile(filepath.Join(p.dataDir, server.RootCAFile))
		if err != nil {
			t.Fatal(err)
		}
		p.roots = x509.NewCertPool()
		p.roots.AppendCertsFromPEM(pem)
	case <-p.exited:
		t.Fatalf("iotcore serve exited: %v\n%s", p.waitErr, p.log.String())
	case <-time.After(processWait):
		_ = cmd.Process.Kill()
		<-p.exited
		t.Fatalf("iotcore serve printed no endpoint in %v\n%s", processWait, p.log.String())
	}
	return p
}

// stop sends SIGTERM and checks that the server exits 0, in time.
func (p *serveProcess) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(t); err != nil {
		t.Errorf("iotcore serve exited with %v after SIGTERM", err)
	}
}

// kill ends the server with SIGKILL, as a crash or the OOM killer would.
func (p *serveProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t); err == nil {
		t.Fatal("iotcore serve exited 0 after SIGKILL")
	}
}

// wait waits for the process to exit, and returns how it did.
func (p *serveProcess) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.waitErr
	case <-time.After(processWait):
		_ = p.cmd.Process.Kill()
		<-p.exited
		t.Fatalf("iotcore serve did not exit within %v", processWait)
		return nil
	}
}

// running reports whether the process has not exited.
func (p *serveProcess) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// credentials reads the admin keys from the data directory's credentials file.
func (p *serveProcess) credentials(t *testing.T) (id, secret string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(p.dataDir, server.CredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(line, "=")
		switch k = strings.TrimSpace(k); {
		case !ok:
		case k == "aws_access_key_id":
			id = strings.TrimSpace(v)
		case k == "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		}
	}
	if id == "" || secret == "" {
		t.Fatal("no keys in the credentials file")
	}
	return id, secret
}

// client is the AWS SDK's IoT client for the server's API.
func (p *serveProcess) client(t *testing.T) *iot.Client {
	t.Helper()
	id, secret := p.credentials(t)
	return iot.New(iot.Options{
		Region:       crashRegion,
		BaseEndpoint: aws.String(p.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(id, secret, ""),
		Retryer:      aws.NopRetryer{},
	})
}

// tlsConfig is a device's TLS configuration: it trusts the server's root CA
// (ca.pem in the data directory) and presents cert.
func (p *serveProcess) tlsConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{RootCAs: p.roots, ServerName: "localhost", Certificates: []tls.Certificate{cert}}
}

// metric sums the samples of the metric name whose labels contain label.
func (p *serveProcess) metric(t *testing.T, name, label string) float64 {
	t.Helper()
	resp, err := http.Get(p.endpoint + "/metrics")
	if err != nil {
		t.Fatalf("get /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("get /metrics: %s %v", resp.Status, err)
	}
	var sum float64
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(line, name+" "); ok && label == "" {
			line = name + "{} " + v // unlabelled
		}
		labels, value, ok := strings.Cut(strings.TrimPrefix(line, name+"{"), "} ")
		if !ok || !strings.HasPrefix(line, name+"{") || !strings.Contains(labels, label) {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}

// lockedBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail returns the last n lines.
func (b *lockedBuffer) tail(n int) string {
	lines := strings.SplitAfter(b.String(), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "")
}

// errDropped is a connection the server closed without a CONNACK: a JITP
// or JITR first connection, as on AWS.
var errDropped = errors.New("connection dropped without a CONNACK")

// mqttConnect is a lean device: TLS, one CONNECT (MQTT 3.1.1 if version is
// 4, 5 if 5), and the server's answer: the CONNACK's code, or errDropped.
// It disconnects when accepted.
func mqttConnect(addr string, cfg *tls.Config, clientID string, version byte) (byte, error) {
	c, ack, err := mqttDial(addr, cfg, clientID, version)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if ack.ReasonCode == 0 {
		_, _ = c.Write([]byte{packets.Disconnect << 4, 0})
	}
	return ack.ReasonCode, nil
}

// mqttConn is a device connection that speaks MQTT with mochi's codec.
type mqttConn struct {
	net.Conn
	r       *bufio.Reader
	version byte
}

// mqttDial connects and returns the connection with its CONNACK.
func mqttDial(addr string, cfg *tls.Config, clientID string, version byte) (*mqttConn, packets.Packet, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: processWait}, Config: cfg}
	ctx, cancel := context.WithTimeout(context.Background(), processWait)
	defer cancel()
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, packets.Packet{}, fmt.Errorf("dial: %w", err)
	}
	c := &mqttConn{Conn: nc, r: bufio.NewReader(nc), version: version}
	pk := packets.Packet{
		FixedHeader:     packets.FixedHeader{Type: packets.Connect},
		ProtocolVersion: version,
		Connect:         packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: clientID, Clean: true, Keepalive: 60},
	}
	var buf bytes.Buffer
	if err := pk.ConnectEncode(&buf); err != nil {
		nc.Close()
		return nil, packets.Packet{}, err
	}
	_ = nc.SetDeadline(time.Now().Add(processWait))
	if _, err := nc.Write(buf.Bytes()); err != nil {
		nc.Close()
		return nil, packets.Packet{}, closedOr(err)
	}
	ack, err := c.read()
	if err != nil {
		nc.Close()
		return nil, packets.Packet{}, closedOr(err)
	}
	if ack.FixedHeader.Type != packets.Connack {
		nc.Close()
		return nil, packets.Packet{}, fmt.Errorf("got %s, want CONNACK", packets.PacketNames[ack.FixedHeader.Type])
	}
	_ = nc.SetDeadline(time.Time{})
	return c, ack, nil
}

// closedOr turns the errors of a connection the server closed into errDropped.
func closedOr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return fmt.Errorf("%w: %v", errDropped, err)
	}
	return err
}

// read reads one packet (CONNACK, DISCONNECT and PUBLISH are decoded).
func (c *mqttConn) read() (packets.Packet, error) {
	b, err := c.r.ReadByte()
	if err != nil {
		return packets.Packet{}, err
	}
	var fh packets.FixedHeader
	if err := fh.Decode(b); err != nil {
		return packets.Packet{}, err
	}
	n, _, err := packets.DecodeLength(c.r)
	if err != nil {
		return packets.Packet{}, err
	}
	fh.Remaining = n
	body := make([]byte, n)
	if _, err := io.ReadFull(c.r, body); err != nil {
		return packets.Packet{}, err
	}
	pk := packets.Packet{FixedHeader: fh, ProtocolVersion: c.version}
	switch fh.Type {
	case packets.Connack:
		err = pk.ConnackDecode(body)
	case packets.Disconnect:
		err = pk.DisconnectDecode(body)
	case packets.Publish:
		err = pk.PublishDecode(body)
	}
	return pk, err
}
