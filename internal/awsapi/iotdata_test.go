package awsapi_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/awsapi"
)

// message is one call of awsapi.DataPublisher.
type message struct {
	Topic   string
	Payload string
	Retain  bool
	QoS     byte
}

// fakePublisher records what it is asked to publish; err, if set, fails it.
type fakePublisher struct {
	mu  sync.Mutex
	got []message
	err error
}

func (p *fakePublisher) Publish(topic string, payload []byte, retain bool, qos byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, message{topic, string(payload), retain, qos})
	return p.err
}

func (p *fakePublisher) take() []message {
	p.mu.Lock()
	defer p.mu.Unlock()
	got := p.got
	p.got = nil
	return got
}

// newDataAPI is the API as internal/server configures it: the verifier also
// accepts iotdata, and Data is pub.
func newDataAPI(t *testing.T, pub awsapi.DataPublisher) (*awsapi.Server, *countingStore) {
	t.Helper()
	return newAPI(t, func(s *awsapi.Server) {
		s.Verifier.ServiceAliases = append(slices.Clone(s.Verifier.ServiceAliases), awsapi.DataPlaneSigningName)
		if pub != nil {
			s.Data = pub
		}
	})
}

// TestPublish checks iot-data Publish: the topic label decoded once (a/b
// and a%2Fb alike), qos and retain from the query, the body as the
// payload, and the topic, qos, retain and payload checks, with
// iot-data-style errors.
func TestPublish(t *testing.T) {
	long := strings.Repeat("x", awsapi.MaxPublishTopicBytes)
	eight := "1/2/3/4/5/6/7/8"
	tests := []struct {
		name     string
		req      signed
		want     *message // published; nil: nothing
		wantCode string   // "" for 200
		inMsg    string
	}{
		{name: "binary payload, encoded slash", req: signed{method: "POST", target: "/topics/a%2Fb?qos=1", body: "\x00binary\xff"},
			want: &message{"a/b", "\x00binary\xff", false, 1}},
		{name: "literal slashes", req: signed{method: "POST", target: "/topics/a/b/c", body: "x"},
			want: &message{"a/b/c", "x", false, 0}},
		{name: "empty levels", req: signed{method: "POST", target: "/topics/a%2F%2Fb%2F", body: "x"},
			want: &message{"a//b/", "x", false, 0}},
		{name: "retained", req: signed{method: "POST", target: "/topics/r?qos=0&retain=true", body: "keep"},
			want: &message{"r", "keep", true, 0}},
		{name: "empty payload", req: signed{method: "POST", target: "/topics/r?retain=true"},
			want: &message{"r", "", true, 0}},
		{name: "MQTT 5 members are ignored", req: signed{method: "POST",
			target: "/topics/m?contentType=text%2Fplain&responseTopic=resp&messageExpiry=60", body: "x"},
			want: &message{"m", "x", false, 0}},
		{name: "basic ingest", req: signed{method: "POST", target: "/topics/%24aws%2Frules%2Fr1%2F" + long, body: "x"},
			want: &message{"$aws/rules/r1/" + long, "x", false, 0}},
		{name: "8 levels after the basic ingest prefix", req: signed{method: "POST", target: "/topics/$aws/rules/r1/" + eight, body: "x"},
			want: &message{"$aws/rules/r1/" + eight, "x", false, 0}},
		{name: "shadow topic", req: signed{method: "POST", target: "/topics/%24aws%2Fthings%2Ft1%2Fshadow%2Fupdate", body: "{}"},
			want: &message{"$aws/things/t1/shadow/update", "{}", false, 0}},
		{name: "largest payload", req: signed{method: "POST", target: "/topics/big", body: strings.Repeat("p", awsapi.MaxPublishPayloadBytes)},
			want: &message{"big", strings.Repeat("p", awsapi.MaxPublishPayloadBytes), false, 0}},

		{name: "payload too large", req: signed{method: "POST", target: "/topics/big", body: strings.Repeat("p", awsapi.MaxPublishPayloadBytes+1)},
			wantCode: "InvalidRequestException", inMsg: "128 KiB"},
		{name: "empty topic", req: signed{method: "POST", target: "/topics/", body: "x"},
			wantCode: "InvalidRequestException", inMsg: "empty"},
		{name: "plus wildcard", req: signed{method: "POST", target: "/topics/a%2F%2B", body: "x"},
			wantCode: "InvalidRequestException", inMsg: "wildcard"},
		{name: "hash wildcard", req: signed{method: "POST", target: "/topics/a%2F%23", body: "x"},
			wantCode: "InvalidRequestException", inMsg: "wildcard"},
		{name: "NUL in topic", req: signed{method: "POST", target: "/topics/a%00b", body: "x"},
			wantCode: "InvalidRequestException", inMsg: "U+0000"},
		{name: "topic too long", req: signed{method: "POST", target: "/topics/" + long + "x", body: "x"},
			wantCode: "InvalidRequestException", inMsg: "more than 256"},
		{name: "too long after the basic ingest prefix", req: signed{method: "POST", target: "/topics/$aws/rules/r1/" + long + "x", body: "x"},
			wantCode: "InvalidRequestException", inMsg: "more than 256"},
		{name: "9 levels", req: signed{method: "POST", target: "/topics/" + eight + "/9", body: "x"},
			wantCode: "InvalidRequestException", inMsg: "more than 8"},
		{name: "9 levels after the basic ingest prefix", req: signed{method: "POST", target: "/topics/$aws/rules/r1/" + eight + "/9", body: "x"},
			wantCode: "InvalidRequestException", inMsg: "more than 8"},
		{name: "retain on a reserved topic", req: signed{method: "POST", target: "/topics/%24aws%2Fthings%2Ft1%2Fshadow%2Fupdate?retain=true", body: "{}"},
			wantCode: "InvalidRequestException", inMsg: "cannot be retained"},
		{name: "event topic", req: signed{method: "POST", target: "/topics/%24aws%2Fevents%2Fpresence%2Fconnected%2Fd1", body: "{}"},
			wantCode: "InvalidRequestException", inMsg: "reserved for events"},
		{name: "qos 2", req: signed{method: "POST", target: "/topics/a?qos=2", body: "x"},
			wantCode: "InvalidRequestException", inMsg: "qos must be 0 or 1"},
		{name: "qos not a number", req: signed{method: "POST", target: "/topics/a?qos=one", body: "x"},
			wantCode: "InvalidRequestException", inMsg: "qos"},
		{name: "retain not a boolean", req: signed{method: "POST", target: "/topics/a?retain=yes", body: "x"},
			wantCode: "InvalidRequestException", inMsg: "retain"},
	}
	pub := &fakePublisher{}
	api, store := newDataAPI(t, pub)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.service = awsapi.DataPlaneSigningName
			got := serve(t, api, tt.req.request(t))
			published := pub.take()
			if tt.wantCode == "" {
				if got.Status != http.StatusOK || got.Code != "" {
					t.Fatalf("answer = %d %s (%s), want 200", got.Status, got.Code, got.Message)
				}
				if d := cmp.Diff([]message{*tt.want}, published); d != "" {
					t.Errorf("published (-want +got):\n%s", d)
				}
				return
			}
			if got.Status != http.StatusBadRequest || got.Code != tt.wantCode || !strings.Contains(got.Message, tt.inMsg) {
				t.Errorf("answer = %d %s (%s), want 400 %s with %q", got.Status, got.Code, got.Message, tt.wantCode, tt.inMsg)
			}
			if len(published) != 0 {
				t.Errorf("published %+v", published)
			}
		})
	}
	if n := store.calls.Load(); n != 0 {
		t.Errorf("the registry was asked %d times", n)
	}
}

// TestDataPlaneRouting checks what a request that is not a served
// data-plane call is told: each plane's requests reach only its routes.
func TestDataPlaneRouting(t *testing.T) {
	tests := []struct {
		name       string
		req        signed
		wantStatus int
		wantCode   string
		inMsg      string
	}{
		{"GET on a topic", signed{target: "/topics/a", service: "iotdata"},
			405, "MethodNotAllowedException", "GET is not allowed on /topics/a"},
		{"GetThingShadow without a shadow service", signed{target: "/things/t1/shadow", service: "iotdata"},
			503, "ServiceUnavailableException", "this server serves no device shadows"},
		{"DeleteConnection", signed{method: "DELETE", target: "/connections/c1", service: "iotdata"},
			404, "UnknownOperationException", "it implements Publish and the device shadow operations"},
		{"ListRetainedMessages", signed{target: "/retainedMessage", service: "iotdata"},
			404, "UnknownOperationException", "data-plane operation at GET /retainedMessage"},
		{"a control-plane path signed iotdata", signed{target: "/things", service: "iotdata"},
			404, "UnknownOperationException", "data-plane operation at GET /things"},
		{"Publish signed for the control plane", signed{method: "POST", target: "/topics/a", body: "x"},
			403, "InvalidSignatureException", "Credential should be scoped to correct service: 'iotdata'."},
		{"Publish signed execute-api", signed{method: "POST", target: "/topics/a", body: "x", service: "execute-api"},
			403, "InvalidSignatureException", "'iotdata'"},
		{"an unknown control-plane path", signed{target: "/destinations"},
			404, "UnknownOperationException", `of the data plane (signing name "iotdata": aws iot-data) Publish and the device shadow operations`},
	}
	pub := &fakePublisher{}
	api, store := newDataAPI(t, pub)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := serve(t, api, tt.req.request(t))
			if got.Status != tt.wantStatus || got.Code != tt.wantCode || !strings.Contains(got.Message, tt.inMsg) {
				t.Errorf("answer = %d %s (%s), want %d %s with %q", got.Status, got.Code, got.Message, tt.wantStatus, tt.wantCode, tt.inMsg)
			}
		})
	}
	if got := pub.take(); len(got) != 0 {
		t.Errorf("published %+v", got)
	}
	if n := store.calls.Load(); n != 0 {
		t.Errorf("the registry was asked %d times", n)
	}
}

// TestPublishWithoutData checks the answer of a Server without a
// DataPublisher, and that a publisher's failure is an internal one whose
// cause is not sent.
func TestPublishWithoutData(t *testing.T) {
	api, _ := newDataAPI(t, nil)
	got := serve(t, api, signed{method: "POST", target: "/topics/a", body: "x", service: "iotdata"}.request(t))
	if got.Status != http.StatusNotFound || got.Code != "UnknownOperationException" || !strings.Contains(got.Message, "no MQTT broker") {
		t.Errorf("without Data: answer = %d %s (%s)", got.Status, got.Code, got.Message)
	}

	api, _ = newDataAPI(t, &fakePublisher{err: errors.New("secret broker detail")})
	got = serve(t, api, signed{method: "POST", target: "/topics/a", body: "x", service: "iotdata"}.request(t))
	if got.Status != http.StatusInternalServerError || got.Code != "InternalFailureException" || strings.Contains(got.Message, "secret") {
		t.Errorf("failing publisher: answer = %d %s (%s)", got.Status, got.Code, got.Message)
	}
}

// TestPublishUnsigned checks that an unsigned or badly signed Publish is
// refused and publishes nothing.
func TestPublishUnsigned(t *testing.T) {
	pub := &fakePublisher{}
	api, _ := newDataAPI(t, pub)
	r := httptest.NewRequest("POST", "/topics/a", strings.NewReader("x"))
	if got := serve(t, api, r); got.Status != http.StatusForbidden || got.Code != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned: answer = %d %s (%s)", got.Status, got.Code, got.Message)
	}
	r = signed{method: "POST", target: "/topics/a", body: "x", service: "iotdata", secret: "wrong"}.request(t)
	if got := serve(t, api, r); got.Status != http.StatusForbidden || got.Code != "InvalidSignatureException" {
		t.Errorf("bad signature: answer = %d %s (%s)", got.Status, got.Code, got.Message)
	}
	if got := pub.take(); len(got) != 0 {
		t.Errorf("published %+v", got)
	}
}
