// The stack budget checked here is the release build's: the race detector's
// instrumentation enlarges every frame. scripts/test runs these tests
// without it.

//go:build !race

package mochi

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"testing"
)

// An idle device's keep-alive costs its connection no stack. mochi answers
// a PINGREQ on the connection's reading goroutine, through its own frames
// and our OnPacketEncode hook; when that hook kept copies of the 800-byte
// packet in its frame, the 16 KiB stack every reader has after its CONNECT
// doubled at each device's first ping, and stayed so until a collection
// shrank it, which the next ping undid: 16 KiB more per idle connection
// (hook.go). The collector is off while this measures, so that no stack
// shrinks meanwhile.
func TestKeepAliveDoesNotGrowStacks(t *testing.T) {
	e := newEnv(t)
	const n = 40
	clients := make([]*rawClient, n)
	for i := range clients {
		id := fmt.Sprintf("sensor-%d", i)
		clients[i] = e.dialRaw(id, 4)
		clients[i].mustConnect(id)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	before := stackInuse()
	for _, c := range clients {
		c.roundTrip()
	}
	if grown := stackInuse() - before; grown > n*4<<10 {
		t.Errorf("the first PINGREQ of %d idle connections grew the stacks by %d KiB, %d KiB each; want no growth",
			n, grown>>10, grown/n>>10)
	}
}

func stackInuse() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.StackInuse)
}
