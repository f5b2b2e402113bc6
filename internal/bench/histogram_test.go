package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	values := []uint64{0, 1, 127, 128, 255, 256, 257, 511, 512, 1e6, 1e9, 1 << 40, math.MaxInt64, math.MaxUint64}
	for range 10000 {
		values = append(values, rng.Uint64()>>rng.IntN(64))
	}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("bucketOf(%d) = %d, outside [0, %d)", v, i, histBuckets)
		}
		if top := bucketMax(i); top < v {
			t.Errorf("bucketMax(bucketOf(%d)) = %d, below the value", v, top)
		} else if float64(top-v) > float64(v)/histSub {
			t.Errorf("bucket of %d reaches %d: more than 1/%d above", v, top, histSub)
		}
		if i > 0 && bucketMax(i-1) >= v {
			t.Errorf("bucket %d below %d's ends at %d, not below it", i-1, v, bucketMax(i-1))
		}
	}
}

// exactQuantile is the nearest-rank quantile of sorted samples.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func TestQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name    string
		samples func() []time.Duration
	}{
		{"one", func() []time.Duration { return []time.Duration{3 * time.Millisecond} }},
		{"1 to 100 ms", func() []time.Duration {
			var s []time.Duration
			for i := 100; i >= 1; i-- {
				s = append(s, time.Duration(i)*time.Millisecond)
			}
			return s
		}},
		{"all equal", func() []time.Duration { return slices.Repeat([]time.Duration{777 * time.Microsecond}, 1000) }},
		{"below 256 ns", func() []time.Duration { return []time.Duration{0, 1, 2, 100, 255} }},
		{"negative counts as zero", func() []time.Duration { return []time.Duration{-time.Second, 0, 10} }},
		{"log-normal, heavy tail", func() []time.Duration {
			var s []time.Duration
			for range 50000 {
				s = append(s, time.Duration(math.Exp(rng.NormFloat64()*1.5+13)))
			}
			return s
		}},
		{"bimodal", func() []time.Duration {
			var s []time.Duration
			for i := range 10000 {
				d := time.Duration(rng.IntN(1000)) * time.Microsecond
				if i%10 == 0 {
					d += 2 * time.Second
				}
				s = append(s, d)
			}
			return s
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			samples := tc.samples()
			var h histogram
			for _, d := range samples {
				h.record(d)
			}
			sorted := slices.Clone(samples)
			for i := range sorted {
				sorted[i] = max(sorted[i], 0)
			}
			slices.Sort(sorted)
			prev := time.Duration(0)
			for _, q := range []float64{0, 0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 1} {
				got, want := h.quantile(q), exactQuantile(sorted, q)
				if got < want || float64(got-want) > float64(want)/histSub {
					t.Errorf("quantile(%v) = %v, want %v to %v", q, got, want, want+want/histSub)
				}
				if got < prev {
					t.Errorf("quantile(%v) = %v, below a lower quantile's %v", q, got, prev)
				}
				prev = got
			}
			if got, want := h.quantile(1), sorted[len(sorted)-1]; got != want {
				t.Errorf("quantile(1) = %v, want the maximum %v", got, want)
			}
			l := h.latency()
			if l.Count != int64(len(samples)) || !(l.Min <= l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
				t.Errorf("latency %+v: count or order wrong", l)
			}
		})
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all histogram
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i) * time.Microsecond
		all.record(d)
		if i%3 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	var empty histogram
	merged := mergeLatency([]histogram{a, empty, b})
	if want := all.latency(); merged != want {
		t.Errorf("merged = %+v, want %+v", merged, want)
	}
	if got := empty.latency(); got != (Latency{}) {
		t.Errorf("empty histogram's latency = %+v, want zeros", got)
	}
}
