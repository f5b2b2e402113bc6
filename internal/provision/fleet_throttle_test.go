package provision

import (
	"strings"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// TestFleetThrottled: requests beyond an operation's rate are rejected
// with 429 Throttling before anything is looked at, so the rejected
// request's token is still good once the second has passed; the other
// operations keep their own rates.
func TestFleetThrottled(t *testing.T) {
	e := newFleetEnv(t)
	e.fleet.Rates = FleetRates{RegisterThing: 2, CreateCertificateFromCsr: -1, CreateKeysAndCertificate: -1}
	var tokens []string
	for range 3 {
		_, tok := e.create(t, formatJSON, pkitest.NewKey(t, pki.KeyECP256))
		tokens = append(tokens, tok)
	}
	for i, tok := range tokens[:2] {
		if topic, body := e.register(t, formatJSON, "fleet", tok, map[string]string{"SerialNumber": string(rune('a' + i))}); !strings.HasSuffix(topic, acceptedSuffix) {
			t.Fatalf("RegisterThing %d: %s %q", i, topic, body)
		}
	}
	before := e.counts(t)
	topic, body := e.register(t, formatJSON, "fleet", tokens[2], map[string]string{"SerialNumber": "c"})
	var rej rejectedReply
	if decode(t, formatJSON, body, &rej); !strings.HasSuffix(topic, rejectedSuffix) || rej.StatusCode != 429 || rej.ErrorCode != "Throttling" || rej.ErrorMessage != "Rate exceeded." {
		t.Fatalf("third RegisterThing in the same second: %s %q; want 429 Throttling", topic, body)
	}
	if after := e.counts(t); after != before {
		t.Errorf("a throttled request changed the registry: %+v, before %+v", after, before)
	}
	if a := e.attempts(t); len(a) == 0 || a[0].Step != "throttle" {
		t.Errorf("the newest attempt is %+v; want the throttled one, at step throttle", a[0])
	}
	if _, tok := e.create(t, formatJSON, pkitest.NewKey(t, pki.KeyECP256)); tok == "" { // CreateCertificateFromCsr is not held back
		t.Fatal("no token")
	}
	e.advance(time.Second)
	if topic, body := e.register(t, formatJSON, "fleet", tokens[2], map[string]string{"SerialNumber": "c"}); !strings.HasSuffix(topic, acceptedSuffix) {
		t.Fatalf("RegisterThing a second later: %s %q", topic, body)
	}
}

// TestFleetDefaultRates: a Fleet without Rates holds RegisterThing to
// AWS's 10 a second.
func TestFleetDefaultRates(t *testing.T) {
	e := newFleetEnv(t)
	e.fleet.Rates = FleetRates{}
	for i := range DefaultRegisterThingRate + 1 {
		_, body := e.register(t, formatJSON, "fleet", "not-a-token", nil)
		var rej rejectedReply
		decode(t, formatJSON, body, &rej)
		if throttled := rej.ErrorCode == codeThrottled; throttled != (i == DefaultRegisterThingRate) {
			t.Fatalf("request %d: %q", i+1, body)
		}
	}
}
