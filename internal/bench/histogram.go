package bench

import (
	"math"
	"math/bits"
	"time"
)

// histogram records durations in log-linear buckets, HdrHistogram's way:
// exact below 256 ns, and above that 128 buckets for each power of two, so
// a percentile is at most 1/128 (0.8%) above the true value, in a fixed 58
// KiB whatever the number of samples. The zero value is ready; it is not
// safe for concurrent use: each worker keeps its own and the run merges
// them.
type histogram struct {
	counts   [histBuckets]uint64
	n        uint64
	sum      float64 // nanoseconds
	min, max uint64  // nanoseconds; valid when n > 0
}

const (
	histSubBits = 7
	histSub     = 1 << histSubBits // buckets per power of two
	// histBuckets covers every uint64: the largest shift is 64-(histSubBits+1).
	histBuckets = (64-histSubBits)*histSub + histSub
)

// bucketOf is the bucket of a value in nanoseconds.
func bucketOf(v uint64) int {
	if v < 2*histSub {
		return int(v)
	}
	shift := bits.Len64(v) - (histSubBits + 1) // v>>shift is in [128, 256)
	return shift*histSub + int(v>>shift)
}

// bucketMax is the largest value bucket i holds.
func bucketMax(i int) uint64 {
	if i < 2*histSub {
		return uint64(i)
	}
	shift := i/histSub - 1
	m := uint64(i%histSub + histSub)
	return (m+1)<<shift - 1
}

// record adds one duration; negative ones count as zero.
func (h *histogram) record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

// merge adds o's samples to h.
func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// quantile is the value at or below which a fraction q (0 to 1) of the
// samples lie: the nearest-rank sample, rounded up to its bucket's top
// and capped at the largest sample, so quantiles never decrease as q
// grows and never exceed the maximum. Zero without samples.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(max(bucketMax(i), h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

// latency summarizes h in milliseconds.
func (h *histogram) latency() Latency {
	if h.n == 0 {
		return Latency{}
	}
	return Latency{
		Count: int64(h.n),
		Min:   ms(time.Duration(h.min)),
		Mean:  ms(time.Duration(h.sum / float64(h.n))),
		P50:   ms(h.quantile(0.50)),
		P90:   ms(h.quantile(0.90)),
		P99:   ms(h.quantile(0.99)),
		Max:   ms(time.Duration(h.max)),
	}
}

// mergeLatency summarizes the workers' histograms together.
func mergeLatency(hs []histogram) Latency {
	var all histogram
	for i := range hs {
		all.merge(&hs[i])
	}
	return all.latency()
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }
