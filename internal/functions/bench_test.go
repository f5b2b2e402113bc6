package functions

import (
	"context"
	"testing"
)

// BenchmarkInvoke measures an invocation of a trivial function: warm (a
// process ready) and cold (the process started and its handler imported
// first, as after a timeout or at the first invocation).
//
//	go test -run '^$' -bench Invoke ./internal/functions/
func BenchmarkInvoke(b *testing.B) {
	fns := map[string]map[string]string{
		"python": {"lambda_function.py": "def lambda_handler(event, context):\n    return event\n"},
		"node":   {"index.js": "exports.handler = async (event) => event;\n"},
	}
	dir := fixture(b, fns)
	input := []byte(`{"state":{"reported":{"temperature":21.5}}}`)
	for _, name := range []string{"python", "node"} {
		interp := map[string]string{"python": "python3", "node": "node"}[name]
		b.Run(name+"/warm", func(b *testing.B) {
			needProgramB(b, interp)
			l, err := OpenLocal(LocalConfig{Dir: dir})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			if _, err := l.Invoke(context.Background(), name, input); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := l.Invoke(context.Background(), name, input); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/cold", func(b *testing.B) {
			needProgramB(b, interp)
			l, err := OpenLocal(LocalConfig{Dir: dir})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			for b.Loop() {
				if _, err := l.Invoke(context.Background(), name, input); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				dropWarm(l)
				b.StartTimer()
			}
		})
	}
}

// dropWarm stops l's warm processes, so that the next invocation is cold.
func dropWarm(l *Local) {
	for _, p := range l.funcs {
		p.mu.Lock()
		idle := p.idle
		p.idle = nil
		p.mu.Unlock()
		for _, proc := range idle {
			proc.stop()
		}
	}
}
