package mqttserver

import (
	"sync"
	"syscall"

	"github.com/iotcore/iotcore/internal/mqttserver/packet"
)

// Reading by records: where the engine can wait for the socket to become
// readable (readiness), a connection's goroutine parks there, a few
// frames deep, and reads each TLS record's plaintext whole, into a pooled
// buffer (in parts if it is larger), when it has come; the packets in it
// are parsed out, each into a buffer of its size. An idle connection's stack then stays small enough
// for the collector to halve it to 4 KiB, where a goroutine parked in
// tls.Conn.Read keeps 8 (see docs/benchmarks.md).

// chunkReader is the state of reading by records.
type chunkReader struct {
	rc    *RecordConn
	raw   syscall.RawConn
	ready []rawPacket // parsed and not yet handled; nil when none
	next  int
	err   error // what ended the last read, once ready is handled
	more  bool  // crypto/tls may hold more of the last record

	// The packet being parsed.
	hdr    [packet.MaxHeaderSize]byte
	nh     int
	h      packet.Header
	body   []byte
	filled int
	inBody bool
}

type rawPacket struct {
	h    packet.Header
	body []byte
}

// plaintextBuffers hold a TLS record's plaintext, or part of it, only
// while it is parsed.
var plaintextBuffers = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

// nextChunk returns the next packet read by records.
func (c *conn) nextChunk() (packet.Header, []byte, error) {
	r := &c.chunks
	for r.next == len(r.ready) {
		r.ready, r.next = nil, 0
		if r.err != nil {
			return packet.Header{}, nil, r.err
		}
		r.err = c.fillChunk()
	}
	p := r.ready[r.next]
	r.ready[r.next] = rawPacket{}
	r.next++
	return p.h, p.body, nil
}

// fillChunk waits until the socket is readable, unless the RecordConn has
// read ahead or crypto/tls may hold more plaintext, then reads a record's
// plaintext and parses the packets it completes.
func (c *conn) fillChunk() error {
	r := &c.chunks
	if !r.more && r.rc.Buffered() == 0 {
		if err := r.raw.Read(readable); err != nil {
			return err
		}
	}
	bp := plaintextBuffers.Get().(*[]byte)
	defer plaintextBuffers.Put(bp)
	n, err := c.nc.Read(*bp)
	// crypto/tls hands over what is left of the record it holds, up to the
	// buffer: a buffer not filled up means none is left. A full one may
	// leave some, read next without waiting for the socket (after the
	// packets parsed so far are handled).
	r.more = n == len(*bp)
	if perr := c.parseChunk((*bp)[:n]); perr != nil {
		return perr
	}
	return err
}

// parseChunk parses data, the next bytes from the client, into packets.
func (c *conn) parseChunk(data []byte) error {
	r := &c.chunks
	for len(data) > 0 {
		if !r.inBody {
			r.hdr[r.nh] = data[0]
			r.nh++
			data = data[1:]
			h, m, err := packet.ParseHeader(r.hdr[:r.nh], c.s.opts.MaxPacketSize)
			if err != nil {
				return err
			}
			if m == 0 {
				continue
			}
			r.nh = 0
			if h.Length == 0 {
				r.ready = append(r.ready, rawPacket{h: h})
				continue
			}
			r.h, r.body, r.filled, r.inBody = h, make([]byte, h.Length), 0, true
		}
		k := copy(r.body[r.filled:], data)
		r.filled += k
		data = data[k:]
		if r.filled == len(r.body) {
			r.ready = append(r.ready, rawPacket{h: r.h, body: r.body})
			r.body, r.inBody = nil, false
		}
	}
	return nil
}
