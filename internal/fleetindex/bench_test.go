package fleetindex

import (
	"fmt"
	"strconv"
	"testing"
)

// benchFleet is n generated things: a third sensors, with floor and
// model attributes, half connected, and a small classic shadow.
func benchFleet(n int) []*Thing {
	things := make([]*Thing, n)
	types := []string{"sensor", "gateway", "camera"}
	for i := range things {
		things[i] = &Thing{
			Name:       fmt.Sprintf("device-%06d", i),
			ID:         fmt.Sprintf("%08x-0000-4000-8000-000000000000", i),
			TypeName:   types[i%3],
			Groups:     []string{"building-" + strconv.Itoa(i%10)},
			Attributes: map[string]string{"floor": strconv.Itoa(i % 20), "model": "m" + strconv.Itoa(i%7), "serial": strconv.Itoa(1000000 + i)},
			Version:    int64(i % 5),
			Connectivity: &Connectivity{
				Connected: i%2 == 0,
				Timestamp: 1700000000000 + int64(i),
			},
			Shadows: map[string]*Shadow{"": {
				Reported: map[string]any{"temp": float64(15 + i%20), "fw": "1." + strconv.Itoa(i%4), "stats": map[string]any{"battery": float64(i % 101)}},
				Version:  int64(i),
			}},
		}
	}
	return things
}

// BenchmarkScan reports the time of one full scan of 100,000 things per op.
func BenchmarkScan(b *testing.B) {
	things := benchFleet(100_000)
	for _, query := range []string{
		`thingTypeName:sensor AND attributes.floor:4 AND connectivity.connected:true`,
		`thingName:device-0123*`,
		`thingName:*99 AND attributes.model:m?`,
		`shadow.reported.stats.battery:[20 TO 40] AND NOT shadow.reported.fw:1.3`,
		`attributes.floor>=10 OR thingGroupNames:building-3`,
		`abc`,
	} {
		q, err := Parse(query)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(query, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n = 0
				for _, th := range things {
					if q.Match(th) {
						n++
					}
				}
			}
			b.ReportMetric(float64(n), "matches")
		})
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(`shadow.reported.stats.battery:{70 TO 100} (v2 OR v3) NOT attributes.model:legacy`); err != nil {
			b.Fatal(err)
		}
	}
}
