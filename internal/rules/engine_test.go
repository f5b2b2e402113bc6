package rules

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/iottest"
	"github.com/iotcore/iotcore/internal/registry"
)

// published is one message a fake publisher took.
type published struct {
	topic   string
	payload string
	qos     byte
}

type fakePublisher struct{ ch chan published }

func newPublisher() *fakePublisher { return &fakePublisher{ch: make(chan published, 100)} }

func (p *fakePublisher) PublishFromRules(topic string, payload []byte, qos byte) error {
	p.ch <- published{topic, string(payload), qos}
	return nil
}

// next returns the next message published on a topic that does not start
// with $iotcore/ (the failure events), which it sets aside.
func (p *fakePublisher) next(t *testing.T) published {
	t.Helper()
	for {
		m := iottest.Receive(t, p.ch, "a published message")
		if !strings.HasPrefix(m.topic, "$iotcore/") {
			return m
		}
	}
}

type fakeInvoker struct {
	mu    sync.Mutex
	calls []string // arn + " " + input
	err   error
	block chan struct{}
}

func (f *fakeInvoker) Invoke(ctx context.Context, arn string, input []byte) ([]byte, error) {
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, arn+" "+string(input))
	return []byte("null"), f.err
}

func (f *fakeInvoker) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

type fakeMetrics struct {
	mu     sync.Mutex
	counts map[string]int
}

func (m *fakeMetrics) RuleAction(rule, action, outcome string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counts == nil {
		m.counts = map[string]int{}
	}
	m.counts[rule+"/"+action+"/"+outcome]++
}

func (m *fakeMetrics) get(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[key]
}

func topicRule(name, sql string, actions ...string) registry.TopicRule {
	r := registry.TopicRule{Name: name, SQL: sql, SQLVersion: "2016-03-23"}
	for _, a := range actions {
		r.Actions = append(r.Actions, json.RawMessage(a))
	}
	return r
}

func newEngine(t *testing.T, cfg Config, rules ...registry.TopicRule) *Engine {
	t.Helper()
	e := Open(cfg)
	t.Cleanup(func() { _ = e.Close() })
	if err := e.Load(rules); err != nil {
		t.Fatal(err)
	}
	return e
}

// settle waits until the engine has evaluated n messages.
func settle(t *testing.T, e *Engine, n int64) {
	t.Helper()
	iottest.WaitFor(t, fmt.Sprintf("%d messages evaluated", n), func() bool { return e.Stats().Messages >= n })
}

func TestRepublish(t *testing.T) {
	pub := newPublisher()
	e := newEngine(t, Config{Publisher: pub}, topicRule("alerts",
		"SELECT temp, topic(2) AS device FROM 'sensors/+/data' WHERE temp > 50",
		`{"republish":{"topic":"alerts/${topic(2)}","qos":1,"roleArn":"arn:aws:iam::123456789012:role/r"}}`))
	if !e.Wants("sensors/dev1/data") || e.Wants("sensors/dev1/other") {
		t.Fatal("Wants does not follow the rule's FROM")
	}
	e.Message(Message{Topic: "sensors/dev1/data", Payload: []byte(`{"temp": 40}`)})
	e.Message(Message{Topic: "sensors/dev1/data", Payload: []byte(`{"temp": 60}`)})
	got := pub.next(t)
	if got.topic != "alerts/dev1" || got.qos != 1 {
		t.Fatalf("republished %+v", got)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(got.payload), &body); err != nil || body["temp"] != 60.0 || body["device"] != "dev1" || len(body) != 2 {
		t.Fatalf("payload %s", got.payload)
	}
	settle(t, e, 3) // the two messages, and the republished one
	select {
	case m := <-pub.ch:
		t.Fatalf("the message under the threshold was republished too: %+v", m)
	default:
	}
	if s := e.Stats(); s.Matched != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestRepublishReservedTopic(t *testing.T) {
	pub := newPublisher()
	e := newEngine(t, Config{Publisher: pub}, topicRule("shadow",
		"SELECT state FROM 'in/+'", `{"republish":{"topic":"$$aws/things/${topic(2)}/shadow/update","roleArn":"r"}}`))
	e.Message(Message{Topic: "in/lamp", Payload: []byte(`{"state":{"reported":{"on":true}}}`)})
	if got := pub.next(t); got.topic != "$aws/things/lamp/shadow/update" || got.payload != `{"state":{"reported":{"on":true}}}` {
		t.Fatalf("republished %+v", got)
	}
}

func TestLambdaAndErrorAction(t *testing.T) {
	pub := newPublisher()
	fn := &fakeInvoker{}
	metrics := &fakeMetrics{}
	const arn = "arn:aws:lambda:us-east-1:123456789012:function:activate"
	r := topicRule("jitr", "SELECT * FROM '$aws/events/certificates/registered/+'", `{"lambda":{"functionArn":"`+arn+`"}}`)
	r.ErrorAction = json.RawMessage(`{"republish":{"topic":"errors/${topic(5)}","roleArn":"r"}}`)
	e := newEngine(t, Config{Publisher: pub, Functions: fn, Metrics: metrics}, r)

	event := `{"certificateId":"abc","caCertificateId":"ca1","certificateStatus":"PENDING_ACTIVATION"}`
	e.Message(Message{Topic: "$aws/events/certificates/registered/ca1", Payload: []byte(event)})
	iottest.WaitFor(t, "the function called", func() bool { return len(fn.called()) == 1 })
	if got := fn.called()[0]; got != arn+" "+event {
		t.Fatalf("invoked %q", got)
	}
	iottest.WaitFor(t, "the success counted", func() bool { return metrics.get("jitr/lambda/success") == 1 })

	fn.mu.Lock()
	fn.err = errors.New("Unhandled: boom")
	fn.mu.Unlock()
	e.Message(Message{Topic: "$aws/events/certificates/registered/ca2", Payload: []byte(event), ClientID: "c1"})
	var failureEvent published
	for failureEvent.topic == "" {
		m := iottest.Receive(t, pub.ch, "the failure event and the errorAction's message")
		switch m.topic {
		case FailureTopic("jitr"):
			failureEvent = m
		case "errors/ca2":
			var em errorMessage
			if err := json.Unmarshal([]byte(m.payload), &em); err != nil {
				t.Fatal(err)
			}
			orig, _ := base64.StdEncoding.DecodeString(em.Base64OriginalPayload)
			if em.RuleName != "jitr" || em.Topic != "$aws/events/certificates/registered/ca2" || em.ClientID != "c1" ||
				string(orig) != event || len(em.Failures) != 1 || em.Failures[0].Action != "LambdaAction" ||
				em.Failures[0].Resource != arn || !strings.Contains(em.Failures[0].Message, "boom") || em.CloudwatchTraceID == "" {
				t.Errorf("errorAction payload %s", m.payload)
			}
		default:
			t.Fatalf("unexpected message %+v", m)
		}
	}
	iottest.WaitFor(t, "the failure counted", func() bool { return metrics.get("jitr/lambda/failure") == 1 })
	f := e.Failures()
	if len(f) != 1 || f[0].Rule != "jitr" || f[0].Action != "LambdaAction" || f[0].ClientID != "c1" || !strings.Contains(f[0].Message, "boom") {
		t.Errorf("failures %+v", f)
	}
}

func TestHTTPAction(t *testing.T) {
	var calls atomic.Int32
	got := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/bad/dev" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // retried
			return
		}
		got <- r.Method + " " + r.URL.Path + " " + r.Header.Get("X-Device") + " " + r.Header.Get("Content-Type") + " " + string(body)
	}))
	t.Cleanup(srv.Close)
	pub := newPublisher()
	e := newEngine(t, Config{Publisher: pub},
		topicRule("hook", "SELECT v FROM 'ok/+'", `{"http":{"url":"`+srv.URL+`/in/${topic(2)}","headers":[{"key":"X-Device","value":"${clientid()}"}]}}`),
		topicRule("bad", "SELECT v FROM 'bad/+'", `{"http":{"url":"`+srv.URL+`/bad/${topic(2)}"}}`))
	e.Message(Message{Topic: "ok/dev", Payload: []byte(`{"v":1}`), ClientID: "dev"})
	if m := iottest.Receive(t, got, "the POST"); m != `POST /in/dev dev application/json {"v":1}` {
		t.Fatalf("got %q", m)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d requests; want the 503 and its retry", n)
	}
	e.Message(Message{Topic: "bad/dev", Payload: []byte(`{"v":1}`)})
	ev := iottest.Receive(t, pub.ch, "the failure event")
	if ev.topic != FailureTopic("bad") || !strings.Contains(ev.payload, "400 Bad Request") || !strings.Contains(ev.payload, `"failedAction":"HttpAction"`) {
		t.Fatalf("failure event %+v", ev)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("%d requests; a 400 is not retried", n)
	}
}

func TestBasicIngest(t *testing.T) {
	pub := newPublisher()
	e := newEngine(t, Config{Publisher: pub},
		topicRule("first", "SELECT * FROM 'sensors/#'", `{"republish":{"topic":"out/first","roleArn":"r"}}`),
		topicRule("second", "SELECT * FROM 'sensors/#'", `{"republish":{"topic":"out/second","roleArn":"r"}}`))
	if !e.Wants("$aws/rules/first/sensors/a") {
		t.Fatal("a Basic Ingest topic is not wanted")
	}
	e.Message(Message{Topic: "$aws/rules/first/sensors/a", Payload: []byte(`{"x":1}`)})
	e.Message(Message{Topic: "$aws/rules/first/elsewhere", Payload: []byte(`{"x":2}`)}) // FROM does not match what follows the prefix
	e.Message(Message{Topic: "$aws/rules/nosuchrule/sensors/a", Payload: []byte(`{"x":3}`)})
	if got := pub.next(t); got.topic != "out/first" || got.payload != `{"x":1}` {
		t.Fatalf("got %+v", got)
	}
	settle(t, e, 4)
	select {
	case m := <-pub.ch:
		t.Fatalf("unexpected %+v", m)
	default:
	}
}

func TestRepublishLoopStops(t *testing.T) {
	pub := newPublisher()
	e := newEngine(t, Config{Publisher: pub}, topicRule("loop", "SELECT * FROM 'loop'", `{"republish":{"topic":"loop","roleArn":"r"}}`))
	e.Message(Message{Topic: "loop", Payload: []byte(`{}`)})
	iottest.WaitFor(t, "the loop stopped", func() bool { return e.Stats().Looped == 1 })
	if n := len(pub.ch); n != MaxHops {
		t.Errorf("%d republished messages; want %d", n, MaxHops)
	}
}

func TestDisabledAndReplacedRules(t *testing.T) {
	pub := newPublisher()
	off := topicRule("off", "SELECT * FROM 't'", `{"republish":{"topic":"out/off","roleArn":"r"}}`)
	off.RuleDisabled = true
	e := newEngine(t, Config{Publisher: pub}, off)
	if e.Wants("t") {
		t.Fatal("a disabled rule wants its topic")
	}
	if err := e.Load([]registry.TopicRule{topicRule("on", "SELECT * FROM 't'", `{"republish":{"topic":"out/on","roleArn":"r"}}`)}); err != nil {
		t.Fatal(err)
	}
	e.Message(Message{Topic: "t", Payload: []byte(`{}`)})
	if got := pub.next(t); got.topic != "out/on" {
		t.Fatalf("got %+v", got)
	}
	err := e.Load([]registry.TopicRule{topicRule("broken", "SELEKT", `{"republish":{"topic":"x","roleArn":"r"}}`), topicRule("on", "SELECT * FROM 't'", `{"republish":{"topic":"out/on","roleArn":"r"}}`)})
	if err == nil || !strings.Contains(err.Error(), "broken") || !e.Wants("t") {
		t.Errorf("Load with a broken rule: %v; the good one must stay", err)
	}
}

func TestUnsupportedAction(t *testing.T) {
	pub := newPublisher()
	e := newEngine(t, Config{Publisher: pub}, topicRule("s3", "SELECT * FROM 't'", `{"s3":{"bucketName":"b","key":"k","roleArn":"r"}}`))
	e.Message(Message{Topic: "t", Payload: []byte(`{}`)})
	ev := iottest.Receive(t, pub.ch, "the failure event")
	if ev.topic != FailureTopic("s3") || !strings.Contains(ev.payload, "does not run the s3 action") || !strings.Contains(ev.payload, `"failedAction":"S3Action"`) {
		t.Fatalf("failure event %+v", ev)
	}
}

// TestFullQueueDrops: a message that finds the queue full is dropped and
// counted, and Message does not wait.
func TestFullQueueDrops(t *testing.T) {
	fn := &fakeInvoker{block: make(chan struct{})}
	e := newEngine(t, Config{Functions: fn, Workers: 1, QueueSize: 1, SlowActions: 1},
		topicRule("slow", "SELECT * FROM 't'", `{"lambda":{"functionArn":"arn:aws:lambda:us-east-1:123456789012:function:f"}}`))
	defer close(fn.block)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 10 {
			e.Message(Message{Topic: "t", Payload: []byte(`{}`)})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Message waited for the engine")
	}
	if s := e.Stats(); s.Dropped < 7 {
		t.Errorf("stats %+v: with one slot, one worker and one queued message, at least 7 of 10 must be dropped", s)
	}
}

// TestRuleIndex: rules are found by their filter's first level, and those
// whose filter begins with a wildcard for every topic they match.
func TestRuleIndex(t *testing.T) {
	e := newEngine(t, Config{},
		topicRule("plus", "SELECT * FROM '+/x'", `{"republish":{"topic":"o","roleArn":"r"}}`),
		topicRule("hash", "SELECT * FROM '#'", `{"republish":{"topic":"o","roleArn":"r"}}`),
		topicRule("events", "SELECT * FROM '$aws/events/#'", `{"republish":{"topic":"o","roleArn":"r"}}`))
	for topic, want := range map[string]bool{
		"a/x": true, "anything": true, "$aws/events/presence/connected/c": true,
		"$aws/things/t/shadow/update": false, // '#' does not match $ topics [MQTT-4.7.2-1]
	} {
		if got := e.Wants(topic); got != want {
			t.Errorf("Wants(%q) = %v, want %v", topic, got, want)
		}
	}
}
