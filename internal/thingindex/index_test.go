package thingindex_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/sqlite"
	"github.com/iotcore/iotcore/internal/thingindex"
)

// newIndex is an index over a SQLite registry of n things: sensor-%06d,
// of type sensor or pump by turns, on floor i%10, with indexing on.
func newIndex(tb testing.TB, n int) *thingindex.Index {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "iotcore.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	reg := &registry.Service{Store: db, Account: iot.Account{ID: "123456789012", Region: "us-east-1"}}
	err = db.Update(ctx, func(tx registry.Tx) error {
		for i := range n {
			typ := []string{"sensor", "pump"}[i%2]
			if err := tx.InsertThing(ctx, &registry.Thing{Name: fmt.Sprintf("sensor-%06d", i), ID: fmt.Sprint(i), TypeName: typ,
				Attributes: map[string]string{"floor": fmt.Sprint(i % 10)}, Version: 1, CreatedAt: time.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := reg.UpdateIndexingConfiguration(ctx, registry.IndexingUpdate{Thing: &registry.IndexingConfiguration{
		ThingIndexingMode: "REGISTRY", ThingConnectivityIndexingMode: "STATUS"}}); err != nil {
		tb.Fatal(err)
	}
	return &thingindex.Index{Registry: reg}
}

// TestSearchPagesAndConnectivity: pages follow each other without gaps,
// and connectivity comes from Connected.
func TestSearchPagesAndConnectivity(t *testing.T) {
	x := newIndex(t, 250)
	ctx := context.Background()
	seen, token := 0, ""
	for {
		res, err := x.Search(ctx, "", "thingTypeName:sensor AND attributes.floor:4", token, 7)
		if err != nil {
			t.Fatal(err)
		}
		seen += len(res.Things)
		if token = res.Next; token == "" {
			break
		}
	}
	if seen != 25 { // even i with i%10 == 4
		t.Fatalf("%d things over the pages, want 25", seen)
	}
	x.Connected("sensor-000004", true, time.Now(), "")
	res, err := x.Search(ctx, "AWS_Things", "connectivity.connected:true", "", 0)
	if err != nil || len(res.Things) != 1 || res.Things[0].Name != "sensor-000004" {
		t.Fatalf("connected things = %+v, %v", res, err)
	}
	if _, err := x.Search(ctx, "", "thingName:a", "", 101); !iot.IsCode(err, iot.InvalidRequest) {
		t.Fatalf("maxResults 101: %v, want InvalidRequestException", err)
	}
}

// BenchmarkSearch100k searches 100,000 indexed things (the index built
// before the timer starts): a page of 100 of 50,000 matches, and a query
// matching 1 thing (a full scan).
func BenchmarkSearch100k(b *testing.B) {
	x := newIndex(b, 100_000)
	ctx := context.Background()
	if _, err := x.Search(ctx, "", "thingName:x", "", 0); err != nil { // builds the index
		b.Fatal(err)
	}
	for _, q := range []string{"thingTypeName:sensor", "thingTypeName:pump AND attributes.floor:3 AND thingName:sensor-09999*"} {
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				if _, err := x.Search(ctx, "", q, "", 100); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Connects and disconnects are recorded while searches run (they do not
// wait for a search's scan), each one counted in connectivity.version, and
// a late event does not overwrite a newer one.
func TestConnectivityWhileSearching(t *testing.T) {
	x := newIndex(t, 50)
	ctx := context.Background()
	base := time.Now()
	const devices, events = 10, 200
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := x.Search(ctx, "", "connectivity.connected:true", "", 100); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for d := range devices {
		wg.Go(func() {
			name := fmt.Sprintf("sensor-%06d", d)
			for i := range events {
				x.Connected(name, i%2 == 0, base.Add(time.Duration(i)*time.Millisecond), "CLIENT_INITIATED_DISCONNECT")
			}
			// Late: older than the last event, so ignored.
			x.Connected(name, true, base, "")
		})
	}
	wg.Wait()
	close(stop)
	<-stopped
	res, err := x.Search(ctx, "", "connectivity.connected:false", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Things) != devices {
		t.Fatalf("%d things disconnected, want %d", len(res.Things), devices)
	}
	for _, th := range res.Things {
		c := th.Connectivity
		if c.Version != events || c.Timestamp != base.Add((events-1)*time.Millisecond).UnixMilli() || c.DisconnectReason != "CLIENT_INITIATED_DISCONNECT" {
			t.Errorf("%s: connectivity %+v; want version %d, the last event's time and reason", th.Name, *c, events)
		}
	}
}

// A thing's change reaches the next search through its event alone; a new
// indexing configuration reloads everything.
func TestChangesAndRebuild(t *testing.T) {
	x := newIndex(t, 3)
	ctx := context.Background()
	count := func(query string) int {
		t.Helper()
		res, err := x.Search(ctx, "", query, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Things)
	}
	if n := count("attributes.floor:7"); n != 0 {
		t.Fatalf("floor 7 before any change: %d things", n)
	}
	setFloor := func(name string) {
		t.Helper()
		err := x.Registry.Store.Update(ctx, func(tx registry.Tx) error {
			th, err := tx.Thing(ctx, name)
			if err != nil {
				return err
			}
			th.Attributes = map[string]string{"floor": "7"}
			return tx.UpdateThing(ctx, th)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	setFloor("sensor-000000") // an event says so
	x.OnRegistryChange([]registry.Event{{Kind: registry.ThingChanged, ID: "sensor-000000"}})
	setFloor("sensor-000001") // no event: the index does not know yet
	if n := count("attributes.floor:7"); n != 1 {
		t.Fatalf("after one announced change: %d things on floor 7, want 1", n)
	}
	x.OnRegistryChange([]registry.Event{{Kind: registry.IndexingConfigurationChanged}})
	if n := count("attributes.floor:7"); n != 2 {
		t.Fatalf("after a rebuild: %d things on floor 7, want 2", n)
	}
}
