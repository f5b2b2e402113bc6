package iotsql

import (
	"testing"
	"time"
)

func BenchmarkEvaluate(b *testing.B) {
	st, err := Parse("SELECT temp, topic(2) AS device FROM 'sensors/+/data' WHERE temp > 50", "")
	if err != nil {
		b.Fatal(err)
	}
	in := Input{
		Topic:     "sensors/dev-42/data",
		Payload:   []byte(`{"temp": 72.5, "humidity": 40, "id": "abc"}`),
		ClientID:  "dev-42",
		Timestamp: time.UnixMilli(1481825251155),
	}
	b.ReportAllocs()
	for b.Loop() {
		out, matched, err := st.Evaluate(in)
		if err != nil || !matched || len(out) == 0 {
			b.Fatal(out, matched, err)
		}
	}
}

func BenchmarkMatches(b *testing.B) {
	st, err := Parse("SELECT * FROM 'sensors/+/data/#'", "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !st.Matches("sensors/dev-42/data/temp") || st.Matches("other/dev-42/data") {
			b.Fatal("wrong match")
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("SELECT temp, topic(2) AS device FROM 'sensors/+/data' WHERE temp > 50", ""); err != nil {
			b.Fatal(err)
		}
	}
}
