package mqttcli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Formats in which Format prints a message.
const (
	// FormatPretty: the time and topic, then the payload: JSON indented on
	// the lines below, text on the same line, other bytes as base64.
	FormatPretty = "pretty"
	// FormatRaw: the time, the topic and the payload as received, one line.
	FormatRaw = "raw"
	// FormatJSON: one JSON object per line: time, topic, qos, retain and
	// payload (the text, or base64 with "encoding":"base64" when the payload
	// is not UTF-8).
	FormatJSON = "json"
)

// Formats lists the formats Format knows.
var Formats = []string{FormatPretty, FormatRaw, FormatJSON}

// timeFormat is RFC 3339 with milliseconds, in UTC.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// Format writes m in format, ending with a newline.
func Format(m Message, format string) (string, error) {
	t := m.Received.UTC().Format(timeFormat)
	switch format {
	case FormatRaw:
		return t + " " + m.Topic + " " + string(m.Payload) + "\n", nil
	case FormatJSON:
		v := struct {
			Time     string `json:"time"`
			Topic    string `json:"topic"`
			QoS      byte   `json:"qos"`
			Retain   bool   `json:"retain,omitempty"`
			Payload  string `json:"payload"`
			Encoding string `json:"encoding,omitempty"`
		}{Time: t, Topic: m.Topic, QoS: m.QoS, Retain: m.Retained, Payload: string(m.Payload)}
		if !utf8.Valid(m.Payload) {
			v.Payload, v.Encoding = base64.StdEncoding.EncodeToString(m.Payload), "base64"
		}
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		return string(b) + "\n", nil
	case FormatPretty, "":
		head := t + " " + m.Topic
		var out bytes.Buffer
		switch {
		case json.Valid(m.Payload) && json.Indent(&out, m.Payload, "  ", "  ") == nil && bytes.ContainsAny(bytes.TrimSpace(m.Payload), "{["):
			return head + "\n  " + out.String() + "\n", nil
		case utf8.Valid(m.Payload):
			return head + " " + strings.TrimRight(string(m.Payload), "\n") + "\n", nil
		default:
			return head + " (base64) " + base64.StdEncoding.EncodeToString(m.Payload) + "\n", nil
		}
	}
	return "", fmt.Errorf("format %q: want one of %s", format, strings.Join(Formats, ", "))
}
