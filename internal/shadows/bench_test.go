package shadows_test

import (
	"context"
	"fmt"
	"path/filepath"
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
