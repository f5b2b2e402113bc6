package rules

import (
	"fmt"
	"testing"

	"github.com/iotcore/iotcore/internal/registry"
)

// BenchmarkWants is what the rules cost a message none of them wants: the
// broker asks Wants for every message.
func BenchmarkWants(b *testing.B) {
	var rules []registry.TopicRule
	for i := range 10 {
		rules = append(rules, topicRule(fmt.Sprintf("r%d", i), fmt.Sprintf("SELECT * FROM 'elsewhere/%d/+'", i), `{"republish":{"topic":"out","roleArn":"r"}}`))
	}
	e := Open(Config{})
	defer e.Close()
	if err := e.Load(rules); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if e.Wants("bench-dev/bench/3") {
			b.Fatal("wanted")
		}
	}
}
