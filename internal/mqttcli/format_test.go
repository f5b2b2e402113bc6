package mqttcli

import (
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	at := time.Date(2026, 12, 4, 20, 1, 2, 345e6, time.FixedZone("x", 3600))
	msg := func(payload string) Message {
		return Message{Topic: "a/b", Payload: []byte(payload), QoS: 1, Received: at}
	}
	tests := []struct {
		name, format string
		m            Message
		want         string
	}{
		{"pretty JSON", FormatPretty, msg(`{"x":1,"y":[2]}`), "2026-12-04T19:01:02.345Z a/b\n  {\n    \"x\": 1,\n    \"y\": [\n      2\n    ]\n  }\n"},
		{"pretty text", FormatPretty, msg("Hello\n"), "2026-12-04T19:01:02.345Z a/b Hello\n"},
		{"pretty number", "", msg("42"), "2026-12-04T19:01:02.345Z a/b 42\n"},
		{"pretty binary", FormatPretty, msg("\xff\x00"), "2026-12-04T19:01:02.345Z a/b (base64) /wA=\n"},
		{"raw", FormatRaw, msg(`{"x":1}`), "2026-12-04T19:01:02.345Z a/b {\"x\":1}\n"},
		{"json", FormatJSON, msg(`{"x":1}`), `{"time":"2026-12-04T19:01:02.345Z","topic":"a/b","qos":1,"payload":"{\"x\":1}"}` + "\n"},
		{"json binary retained", FormatJSON, Message{Topic: "t", Payload: []byte{0xff}, Retained: true, Received: at},
			`{"time":"2026-12-04T19:01:02.345Z","topic":"t","qos":0,"retain":true,"payload":"/w==","encoding":"base64"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Format(tt.m, tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Format = %q\nwant     %q", got, tt.want)
			}
		})
	}
	if _, err := Format(msg("x"), "yaml"); err == nil {
		t.Error("format yaml: no error")
	}
}
