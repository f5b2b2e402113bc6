package shadows_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotcore/iotcore/internal/iottest"
	"github.com/iotcore/iotcore/internal/server"
	"github.com/iotcore/iotcore/internal/servertest"
)

// device is an MQTT client that records every message it receives, by topic.
type device struct {
	paho.Client
	mu  sync.Mutex
	got map[string][]map[string]any
	any chan string // topics, as they arrive
}

func connect(t *testing.T, gw *servertest.Gateway, id string, cert tls.Certificate) *device {
	t.Helper()
	d := &device{got: map[string][]map[string]any{}, any: make(chan string, 1024)}
	opts := paho.NewClientOptions().AddBroker("tls://" + gw.MQTTAddr().String()).SetClientID(id).
		SetTLSConfig(&tls.Config{RootCAs: gw.RootCAs, Certificates: []tls.Certificate{cert}, ServerName: "localhost"}).
		SetProtocolVersion(4).SetAutoReconnect(false).SetOrderMatters(true)
	d.Client = paho.NewClient(opts)
	if tok := d.Connect(); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	t.Cleanup(func() { d.Disconnect(0) })
	return d
}

func (d *device) subscribe(t *testing.T, filter string) {
	t.Helper()
	tok := d.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		var doc map[string]any
		_ = json.Unmarshal(m.Payload(), &doc)
		d.mu.Lock()
		d.got[m.Topic()] = append(d.got[m.Topic()], doc)
		d.mu.Unlock()
		d.any <- m.Topic()
	})
	if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", filter, tok.Error())
	}
}

func (d *device) publish(t *testing.T, topic, payload string) {
	t.Helper()
	if tok := d.Publish(topic, 1, false, payload); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// await waits for the next message on topic and returns it.
func (d *device) await(t *testing.T, topic string) map[string]any {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		d.mu.Lock()
		if msgs := d.got[topic]; len(msgs) > 0 {
			d.got[topic] = msgs[1:]
			d.mu.Unlock()
			return msgs[0]
		}
		d.mu.Unlock()
		select {
		case <-d.any:
		case <-deadline:
			d.mu.Lock()
			seen := map[string]int{}
			for k, v := range d.got {
				seen[k] = len(v)
			}
			d.mu.Unlock()
			t.Fatalf("no message on %s (waiting: %v)", topic, seen)
		}
	}
}

func num(v any) float64 { f, _ := v.(float64); return f }

// TestShadowOverMQTTAndHTTPS runs a device's shadow flow over MQTT (paho)
// and an application's over HTTPS (boto3's iot-data client) against one
// gateway: get of a new shadow (404), reported state, a desired change by
// the application arriving at the device as a delta, a named shadow, a
// version conflict, and a delete.
func TestShadowOverMQTTAndHTTPS(t *testing.T) {
	gw := servertest.Start(t)
	cert, _ := gw.AllowedEverything(t)
	lamp := connect(t, gw, "lamp", cert)
	lamp.subscribe(t, "$aws/things/lamp/shadow/#")
	const base = "$aws/things/lamp/shadow/"

	lamp.publish(t, base+"get", `{"clientToken":"g1"}`)
	if r := lamp.await(t, base+"get/rejected"); num(r["code"]) != 404 || r["clientToken"] != "g1" {
		t.Errorf("get of a new shadow: %v", r)
	}
	lamp.publish(t, base+"update", `{"state":{"reported":{"on":false,"brightness":10}},"clientToken":"u1"}`)
	acc := lamp.await(t, base+"update/accepted")
	if num(acc["version"]) != 1 || acc["clientToken"] != "u1" {
		t.Errorf("first update: %v", acc)
	}
	docs := lamp.await(t, base+"update/documents")
	if cur, _ := docs["current"].(map[string]any); cur == nil || num(cur["version"]) != 1 {
		t.Errorf("update/documents: %v", docs)
	}

	iottest.NeedProgram(t, "python3", "-c", "import boto3")
	cmd := exec.Command("python3", "testdata/boto3_shadow.py", gw.APIURL(), "lamp")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+gw.Credentials.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+gw.Credentials.SecretAccessKey,
		"AWS_SHARED_CREDENTIALS_FILE=/nonexistent", "AWS_CONFIG_FILE=/nonexistent")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("boto3: %v\n%s", err, stderr)
	}
	var b struct {
		Update, Get, NamedGet, NamedDelete map[string]any
		Named                              []string
		DeletedGet, Conflict, BadJSON      []any
	}
	if err := json.Unmarshal(out, &struct {
		Update      *map[string]any `json:"update"`
		Get         *map[string]any `json:"get"`
		Named       *[]string       `json:"named"`
		NamedGet    *map[string]any `json:"named_get"`
		NamedDelete *map[string]any `json:"named_delete"`
		DeletedGet  *[]any          `json:"deleted_get"`
		Conflict    *[]any          `json:"conflict"`
		BadJSON     *[]any          `json:"bad_json"`
	}{&b.Update, &b.Get, &b.Named, &b.NamedGet, &b.NamedDelete, &b.DeletedGet, &b.Conflict, &b.BadJSON}); err != nil {
		t.Fatalf("boto3 printed %s: %v", out, err)
	}
	if num(b.Update["version"]) != 2 || b.Update["clientToken"] != "boto3-1" {
		t.Errorf("update-thing-shadow answered %v", b.Update)
	}
	state, _ := b.Get["state"].(map[string]any)
	if delta, _ := state["delta"].(map[string]any); delta["on"] != true {
		t.Errorf("get-thing-shadow answered %v, want a delta with on=true", b.Get)
	}
	if fmt.Sprint(b.Named) != "[config]" {
		t.Errorf("list-named-shadows-for-thing: %v", b.Named)
	}
	if fmt.Sprint(b.DeletedGet) != "[ResourceNotFoundException 404]" || fmt.Sprint(b.Conflict) != "[ConflictException 409]" ||
		fmt.Sprint(b.BadJSON) != "[InvalidRequestException 400]" {
		t.Errorf("errors: deleted %v, conflict %v, bad JSON %v", b.DeletedGet, b.Conflict, b.BadJSON)
	}

	// The application's update was published too, and its desired change
	// reached the device as a delta.
	if acc := lamp.await(t, base+"update/accepted"); num(acc["version"]) != 2 || acc["clientToken"] != "boto3-1" {
		t.Errorf("update/accepted of the REST update: %v", acc)
	}
	delta := lamp.await(t, base+"update/delta")
	if st, _ := delta["state"].(map[string]any); st["on"] != true || num(delta["version"]) != 2 {
		t.Errorf("update/delta: %v", delta)
	}
	// The device reports it; a stale version is refused; delete.
	lamp.publish(t, base+"update", `{"state":{"reported":{"on":true}},"version":2}`)
	if acc := lamp.await(t, base+"update/accepted"); num(acc["version"]) != 3 {
		t.Errorf("update with the current version: %v", acc)
	}
	lamp.publish(t, base+"update", `{"state":{"reported":{"on":false}},"version":2,"clientToken":"stale"}`)
	if r := lamp.await(t, base+"update/rejected"); num(r["code"]) != 409 || r["clientToken"] != "stale" {
		t.Errorf("update with a stale version: %v", r)
	}
	lamp.publish(t, base+"delete", `{}`)
	if r := lamp.await(t, base+"delete/accepted"); num(r["version"]) != 3 {
		t.Errorf("delete: %v", r)
	}
	lamp.publish(t, base+"get", `{}`)
	if r := lamp.await(t, base+"get/rejected"); num(r["code"]) != 404 {
		t.Errorf("get after delete: %v", r)
	}
}

// TestConcurrentUpdatesKeepEveryVersionOnce: devices updating one shadow at
// once each get a version of their own, with none skipped or repeated; an
// update beyond the thing's requests in flight (AWS: 10) is rejected with
// 429, and takes no version.
func TestConcurrentUpdatesKeepEveryVersionOnce(t *testing.T) {
	gw := servertest.Start(t, func(c *server.Config) { c.MQTT.PublishRate = -1 })
	cert, _ := gw.AllowedEverything(t)
	watcher := connect(t, gw, "watcher", cert)
	watcher.subscribe(t, "$aws/things/boiler/shadow/update/+")
	const writers, each = 5, 8
	var wg sync.WaitGroup
	for w := range writers {
		d := connect(t, gw, fmt.Sprintf("writer-%d", w), cert)
		wg.Go(func() {
			for i := range each {
				d.publish(t, "$aws/things/boiler/shadow/update", fmt.Sprintf(`{"state":{"reported":{"w%d":%d}}}`, w, i))
			}
		})
	}
	wg.Wait()
	seen := map[float64]bool{}
	accepted, throttled := 0, 0
	for accepted+throttled < writers*each {
		select {
		case topic := <-watcher.any:
			watcher.mu.Lock()
			msgs := watcher.got[topic]
			watcher.got[topic] = nil
			watcher.mu.Unlock()
			for _, m := range msgs {
				switch topic {
				case "$aws/things/boiler/shadow/update/accepted":
					v := num(m["version"])
					if seen[v] {
						t.Errorf("version %v accepted twice", v)
					}
					seen[v] = true
					accepted++
				case "$aws/things/boiler/shadow/update/rejected":
					if num(m["code"]) != 429 {
						t.Errorf("an update rejected: %v", m)
					}
					throttled++
				}
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%d accepted and %d throttled of %d updates", accepted, throttled, writers*each)
		}
	}
	for v := 1; v <= accepted; v++ {
		if !seen[float64(v)] {
			t.Errorf("version %d never accepted (%d accepted)", v, accepted)
		}
	}
	t.Logf("%d updates accepted, %d throttled (429)", accepted, throttled)
}

// BenchmarkUpdateToDelta measures, through a real gateway, the time from an
// application's desired change (the REST UpdateThingShadow path of the
// service, as aws iot-data update-thing-shadow reaches it) to the device's
// receipt of update/delta over MQTT (mutual TLS, QoS 1), one update at a
// time; it reports the p50 and p99 in milliseconds.
func BenchmarkUpdateToDelta(b *testing.B) {
	gw := servertest.Start(b, func(c *server.Config) { c.MQTT.PublishRate = -1 })
	cert, _ := gw.AllowedEverything(b)
	opts := paho.NewClientOptions().AddBroker("tls://" + gw.MQTTAddr().String()).SetClientID("lamp").
		SetTLSConfig(&tls.Config{RootCAs: gw.RootCAs, Certificates: []tls.Certificate{cert}, ServerName: "localhost"}).
		SetProtocolVersion(4).SetAutoReconnect(false).SetOrderMatters(true)
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		b.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(0)
	deltas := make(chan time.Time, 1)
	if tok := c.Subscribe("$aws/things/lamp/shadow/update/delta", 1, func(paho.Client, paho.Message) { deltas <- time.Now() }); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		b.Fatal(tok.Error())
	}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		i++
		start := time.Now()
		body := fmt.Sprintf(`{"state":{"desired":{"level":%d}}}`, i)
		res, err := http.DefaultClient.Do(signedShadowUpdate(b, gw, body))
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("UpdateThingShadow: %s", res.Status)
		}
		select {
		case at := <-deltas:
			lat = append(lat, at.Sub(start))
		case <-time.After(30 * time.Second):
			b.Fatal("no delta")
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// signedShadowUpdate is UpdateThingShadow of lamp's classic shadow, signed
// with SigV4 for iot-data as the SDKs sign it.
func signedShadowUpdate(tb testing.TB, gw *servertest.Gateway, body string) *http.Request {
	req, err := http.NewRequest(http.MethodPost, gw.APIURL()+"/things/lamp/shadow", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: gw.Credentials.AccessKeyID, SecretAccessKey: gw.Credentials.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "iotdata", "us-east-1", time.Now()); err != nil {
		tb.Fatal(err)
	}
	return req
}

// Shadow replies are messages like any other: a topic rule selects from
// update/accepted and republishes what the device reported.
func TestRuleOnShadowUpdates(t *testing.T) {
	gw := servertest.Start(t)
	cert, _ := gw.AllowedEverything(t)
	_, err := gw.Client.CreateTopicRule(context.Background(), &iot.CreateTopicRuleInput{RuleName: aws.String("lamp_state"),
		TopicRulePayload: &types.TopicRulePayload{Sql: aws.String("SELECT state.reported.on AS on, topic(3) AS thing FROM '$aws/things/+/shadow/update/accepted'"),
			Actions: []types.Action{{Republish: &types.RepublishAction{Topic: aws.String("lamps/state"), RoleArn: aws.String("arn:aws:iam::123456789012:role/r")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	lamp := connect(t, gw, "lamp", cert)
	lamp.subscribe(t, "lamps/state")
	lamp.publish(t, "$aws/things/lamp/shadow/update", `{"state":{"reported":{"on":true}}}`)
	if got := lamp.await(t, "lamps/state"); got["on"] != true || got["thing"] != "lamp" {
		t.Errorf("the rule republished %v", got)
	}
}
