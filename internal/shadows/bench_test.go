package shadows_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/shadows"
	"github.com/iotcore/iotcore/internal/sqlite"
)

// recorder counts what the service publishes.
type recorder struct{ n atomic.Int64 }

func (r *recorder) Publish(string, []byte, bool, byte) error { r.n.Add(1); return nil }

func newService(b *testing.B) *shadows.Service {
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "iotcore.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	s := shadows.New(shadows.Config{Registry: &registry.Service{Store: db, Account: iot.Account{ID: "123456789012", Region: "us-east-1"}}})
	s.SetPublisher(&recorder{})
	b.Cleanup(s.Close)
	return s
}

// BenchmarkUpdate measures shadow updates through the service (the REST
// path: document, registry transaction on SQLite with the disk flush of
// every commit, accepted/delta/documents built and handed to the
// publisher): one device's shadow, one update after the other; and many
// devices' shadows at once.
func BenchmarkUpdate(b *testing.B) {
	ctx := context.Background()
	b.Run("one-shadow", func(b *testing.B) {
		s := newService(b)
		i := 0
		for b.Loop() {
			i++
			if _, err := s.UpdateThingShadow(ctx, "boiler", "", fmt.Appendf(nil, `{"state":{"reported":{"temp":%d},"desired":{"temp":20}}}`, i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("many-shadows", func(b *testing.B) {
		s := newService(b)
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			thing := fmt.Sprintf("pump-%d", next.Add(1))
			i := 0
			for pb.Next() {
				i++
				if _, err := s.UpdateThingShadow(ctx, thing, "", fmt.Appendf(nil, `{"state":{"reported":{"temp":%d}}}`, i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// Requests that arrive while the service closes are dropped, never sent to
// a closed queue.
func TestHandleDuringClose(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "iotcore.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := shadows.New(shadows.Config{Registry: &registry.Service{Store: db, Account: iot.Account{ID: "123456789012", Region: "us-east-1"}}, Workers: 2})
	pub := &recorder{}
	s.SetPublisher(pub)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				s.Handle(fmt.Sprintf("$aws/things/t%d-%d/shadow/update", g, i%3), []byte(`{"state":{"reported":{"a":1}}}`))
			}
		})
	}
	s.Close()
	wg.Wait()
	s.Close() // twice is fine
	if pub.n.Load() == 0 {
		t.Log("closed before any request was served")
	}
}
