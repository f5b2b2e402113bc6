package mochi

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
)

// frame is a raw packet: the fixed header byte, the Remaining Length (as
// few bytes as it needs) and body.
func frame(first byte, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	return append(append([]byte{first}, varintBytes(len(b))...), b...)
}

func varintBytes(n int) []byte {
	var out []byte
	for {
		c := byte(n % 128)
		n /= 128
		if n > 0 {
			c |= 0x80
		}
		out = append(out, c)
		if n == 0 {
			return out
		}
	}
}

func str(s string) []byte { return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...) }

// props is a property list: its length, then the properties.
func props(p ...byte) []byte { return append(varintBytes(len(p)), p...) }

// connect5 is an MQTT 5 CONNECT of client id, with properties cp (and a
// will with properties wp, if not nil).
func connect5(id string, cp, wp []byte) []byte {
	flags := byte(0x02) // clean start
	var will []byte
	if wp != nil {
		flags |= 0x04
		will = bytes.Join([][]byte{wp, str("will/t"), str("gone")}, nil)
	}
	return frame(0x10, str("MQTT"), []byte{5, flags, 0, 60}, cp, str(id), will)
}

// publish5 is an MQTT 5 PUBLISH (QoS 0, or 1 with packet id 1) on t with
// the raw property list pl.
func publish5(qos byte, t string, pl []byte, payload string) []byte {
	var id []byte
	if qos > 0 {
		id = []byte{0, 1}
	}
	return frame(0x30|qos<<1, str(t), id, pl, []byte(payload))
}

// frameCases are byte streams after an MQTT 5 CONNECT, and what the checker
// says of them: nil, or the reason code of the refusal.
var frameCases = []struct {
	name string
	in   []byte
	want *packets.Code
}{
	{"publish without properties", publish5(0, "a/b", props(), "x"), nil},
	{"publish qos 1 with properties", publish5(1, "a/b", props(0x01, 1, 0x02, 0, 0, 0, 60, 0x26, 0, 1, 'k', 0, 1, 'v', 0x26, 0, 1, 'k', 0, 1, 'w'), "x"), nil},
	{"publish duplicate payload format indicator", publish5(1, "a/b", props(0x01, 0, 0x01, 1), "x"), &packets.ErrProtocolViolation},
	{"publish duplicate message expiry", publish5(0, "a/b", props(0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 2), "x"), &packets.ErrProtocolViolation},
	{"publish duplicate content type", publish5(0, "a/b", props(0x03, 0, 1, 'a', 0x03, 0, 1, 'b'), "x"), &packets.ErrProtocolViolation},
	{"publish property length in 5 bytes", frame(0x30, str("a/b"), []byte{0x80, 0x80, 0x80, 0x80, 0x00}, []byte("x")), &packets.ErrMalformedVariableByteInteger},
	{"publish property length not minimal", frame(0x30, str("a/b"), []byte{0x80, 0x00}, []byte("x")), &packets.ErrMalformedVariableByteInteger},
	{"publish unknown property", publish5(0, "a/b", props(0x7f, 0), "x"), &packets.ErrMalformedBadProperty},
	{"publish property past its list", publish5(0, "a/b", props(0x02, 0, 0), "x"), &packets.ErrMalformedProperties},
	{"remaining length in 5 bytes", []byte{0x30, 0x80, 0x80, 0x80, 0x80, 0x01}, &packets.ErrMalformedVariableByteInteger},
	{"remaining length not minimal", []byte{0xc0, 0x80, 0x00}, &packets.ErrMalformedVariableByteInteger},
	{"pingreq", []byte{0xc0, 0x00}, nil},
	{"pingreq with a payload", frame(0xc0, []byte{0}), &packets.ErrMalformedPacket},
	{"auth without properties", frame(0xf0), &packets.ErrProtocolViolation},
	{"auth without a method", frame(0xf0, []byte{0x18}, props(0x16, 0, 1, 'd')), &packets.ErrProtocolViolation},
	{"auth with a method", frame(0xf0, []byte{0x18}, props(0x15, 0, 1, 'm')), &packets.ErrProtocolViolation},
	{"auth with two methods", frame(0xf0, []byte{0x18}, props(0x15, 0, 1, 'm', 0x15, 0, 1, 'n')), &packets.ErrProtocolViolation},
	{"puback without properties", frame(0x40, []byte{0, 1}), nil},
	{"puback duplicate reason string", frame(0x40, []byte{0, 1, 0}, props(0x1f, 0, 0, 0x1f, 0, 0)), &packets.ErrProtocolViolation},
	{"subscribe two subscription identifiers", frame(0x82, []byte{0, 1}, props(0x0b, 1, 0x0b, 2), str("a"), []byte{1}), &packets.ErrProtocolViolation},
	{"disconnect duplicate session expiry", frame(0xe0, []byte{0}, props(0x11, 0, 0, 0, 0, 0x11, 0, 0, 0, 0)), &packets.ErrProtocolViolation},
	{"disconnect without reason", frame(0xe0), nil},
	{"good then bad", append(publish5(0, "a", props(), "x"), frame(0xc0, []byte{0})...), &packets.ErrMalformedPacket},
	{"too large", publish5(0, "a", props(), strings.Repeat("x", 100-5)), &packets.ErrPacketTooLarge},
	{"largest", publish5(0, "a", props(), strings.Repeat("x", 100-6)), nil},
}

// TestFrameChecker runs each case whole, split at every byte, and byte by
// byte: the verdict and the bytes let through before the refused packet
// must not depend on how the stream arrives.
func TestFrameChecker(t *testing.T) {
	conn5 := connect5("dev", props(0x11, 0, 0, 0, 60), nil)
	for _, tt := range frameCases {
		t.Run(tt.name, func(t *testing.T) {
			stream := append(append([]byte{}, conn5...), tt.in...)
			// What goes through: everything, or what precedes the
			// refused packet (the last one in each case).
			wantPassed := len(stream)
			if tt.want != nil {
				wantPassed = len(stream) - lastFrameLen(tt.in)
			}
			splits := [][]int{{len(stream)}}
			for i := 1; i < len(stream); i++ {
				splits = append(splits, []int{i, len(stream)})
			}
			bytewise := make([]int, len(stream))
			for i := range bytewise {
				bytewise[i] = i + 1
			}
			splits = append(splits, bytewise)
			for _, cuts := range splits {
				f := frameChecker{maxSize: 100}
				passed, from := 0, 0
				var err error
				for _, to := range cuts {
					var n int
					n, err = f.check(stream[from:to])
					passed += n
					if err != nil {
						break
					}
					from = to
				}
				// Bytes of the refused packet that arrived before it could
				// be refused have gone through, never all of it.
				if passed < wantPassed || (err == nil && passed != wantPassed) || (err != nil && passed == len(stream)) {
					t.Fatalf("cuts %v: %d bytes passed, want %d (at most %d)", cuts, passed, wantPassed, len(stream)-1)
				}
				var code packets.Code
				switch {
				case tt.want == nil && err != nil:
					t.Fatalf("cuts %v: %v, want no error", cuts, err)
				case tt.want != nil && err == nil:
					t.Fatalf("cuts %v: no error, want %#x", cuts, tt.want.Code)
				case tt.want != nil && (!errors.As(err, &code) || code.Code != tt.want.Code):
					t.Fatalf("cuts %v: %v, want reason code %#x", cuts, err, tt.want.Code)
				}
				if f.version != 5 {
					t.Fatalf("version %d, want 5", f.version)
				}
			}
		})
	}
}

// lastFrameLen is the length of the last packet of b, which holds whole
// packets, or all of b if it cannot be parsed (a malformed header).
func lastFrameLen(b []byte) int {
	last := len(b)
	for i := 0; i < len(b); {
		n, w, err := varint(b[i+1:])
		if err != nil {
			return len(b) - i
		}
		last = 1 + w + n
		i += last
	}
	return last
}

// FuzzFrameChecker feeds the checker arbitrary streams, whole and split:
// it must not panic, and its verdict must not depend on the split.
func FuzzFrameChecker(f *testing.F) {
	conn5 := connect5("dev", props(), nil)
	for _, tt := range frameCases {
		f.Add(append(append([]byte{}, conn5...), tt.in...), uint16(len(conn5)+3))
	}
	f.Add(connect5("dev", props(0x11, 0, 0, 0, 60, 0x11, 0, 0, 0, 1), nil), uint16(5))
	f.Add(connect5("dev", props(), props(0x01, 0, 0x01, 0)), uint16(20))
	f.Fuzz(func(t *testing.T, stream []byte, cut uint16) {
		whole := frameChecker{maxSize: 1000}
		n1, err1 := whole.check(stream)
		split := frameChecker{maxSize: 1000}
		c := min(int(cut), len(stream))
		n2, err2 := split.check(stream[:c])
		if err2 == nil {
			var n int
			n, err2 = split.check(stream[c:])
			n2 += n
		}
		if (err1 == nil) != (err2 == nil) || fmt.Sprint(err1) != fmt.Sprint(err2) {
			t.Fatalf("whole: %v; split at %d: %v", err1, c, err2)
		}
		if err1 == nil && n1 != n2 {
			t.Fatalf("whole passed %d bytes, split %d", n1, n2)
		}
	})
}

// TestProtocolErrorsCloseConnection sends each refused packet to a broker:
// an MQTT 5 device gets DISCONNECT with the reason code, then the
// connection is closed [MQTT-4.13.1-1]; the packets before it were served.
func TestProtocolErrorsCloseConnection(t *testing.T) {
	max := DefaultMaxPacketSize
	// A QoS 0 PUBLISH on "t" of exactly n bytes: header 1 + 3 (a
	// Remaining Length over 16,383), topic 3, property length 1.
	sized := func(n int) []byte {
		b := publish5(0, "t", props(), strings.Repeat("x", n-8))
		if len(b) != n {
			t.Fatalf("built %d bytes, want %d", len(b), n)
		}
		return b
	}
	tests := []struct {
		name string
		in   []byte
		want packets.Code
	}{
		// Refused from its fixed header: the rest is not sent (the server
		// closing with unread data would reset the connection).
		{"packet size max+1", sized(max + 1)[:100], packets.ErrPacketTooLarge},
		{"packet size max+3", sized(max + 3)[:100], packets.ErrPacketTooLarge},
		{"duplicate payload format indicator", publish5(1, "t", props(0x01, 0, 0x01, 1), "x"), packets.ErrProtocolViolation},
		{"auth without a method", frame(0xf0, []byte{0x18}, props()), packets.ErrProtocolViolation},
		{"auth without properties", frame(0xf0), packets.ErrProtocolViolation},
		{"auth with a method", frame(0xf0, []byte{0x18}, props(0x15, 0, 5, 'S', 'C', 'R', 'A', 'M')), packets.ErrProtocolViolation},
		{"property length in 5 bytes", frame(0x30, str("t"), []byte{0x80, 0x80, 0x80, 0x80, 0x00}, []byte("x")), packets.ErrMalformedPacket},
		{"pingreq with a payload", frame(0xc0, []byte{0}), packets.ErrMalformedPacket},
		{"remaining length in 5 bytes", []byte{0x30, 0x80, 0x80, 0x80, 0x80, 0x01}, packets.ErrMalformedPacket},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.gate.allowAll("dev")
			c := e.dialRaw("device", 5)
			c.mustConnect("dev")
			// A good QoS 1 PUBLISH in the same write is served first.
			c.write(append(publish5(1, "t", props(), "before"), tt.in...))
			if ack := c.expect(packets.Puback); ack.ReasonCode != 0 {
				t.Errorf("PUBACK of the publish before: %#x", ack.ReasonCode)
			}
			if d := c.expect(packets.Disconnect); d.ReasonCode != tt.want.Code {
				t.Errorf("DISCONNECT %#x, want %#x", d.ReasonCode, tt.want.Code)
			}
			c.expectClosed()
			if got := e.b.Stats().ProtocolErrors; got != 1 {
				t.Errorf("Stats().ProtocolErrors = %d, want 1", got)
			}
		})
	}

	t.Run("packet size max", func(t *testing.T) {
		e := newEnv(t)
		e.gate.allowAll("dev")
		w := e.watcher("w", "t")
		c := e.dialRaw("device", 5)
		c.mustConnect("dev")
		c.write(sized(max))
		c.roundTrip()
		if pk := w.nextPublish(); len(pk.Payload) != max-8 {
			t.Errorf("delivered %d bytes of payload, want %d", len(pk.Payload), max-8)
		}
	})

	// MQTT 3.1.1 has no DISCONNECT from the server: closed.
	t.Run("MQTT 3.1.1 pingreq with a payload", func(t *testing.T) {
		e := newEnv(t)
		e.gate.allowAll("dev")
		c := e.dialRaw("device", 4)
		c.mustConnect("dev")
		c.write(frame(0xc0, []byte{0}))
		c.expectClosed()
	})

	// A device that sends a malformed packet has ended its connection
	// abnormally: its will is published [MQTT-3.1.2-8].
	t.Run("will published", func(t *testing.T) {
		e := newEnv(t)
		e.gate.allowAll("dev")
		w := e.watcher("w", "will/#")
		c := e.dialRaw("device", 5)
		c.mustConnect("dev", withWill("will/dev", false))
		c.write(frame(0xc0, []byte{0}))
		c.expect(packets.Disconnect)
		c.expectClosed()
		w.expectOnly("will/dev", "gone")
	})
}

// BenchmarkFrameChecker measures the checker on the stream of a QoS 1
// fan-in: MQTT 5 PUBLISHes with a 100-byte payload and a user property,
// read 2 KiB at a time as mochi reads them (so packets straddle reads).
func BenchmarkFrameChecker(b *testing.B) {
	pk := publish5(1, "devices/sensor-0001/telemetry", props(0x26, 0, 2, 'i', 'd', 0, 1, '1'), strings.Repeat("x", 100))
	stream := bytes.Repeat(pk, 2048) // a whole number of 2 KiB reads
	f := frameChecker{maxSize: DefaultMaxPacketSize}
	if _, err := f.check(connect5("dev", props(), nil)); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(2048)
	at := 0
	for b.Loop() {
		if _, err := f.check(stream[at : at+2048]); err != nil {
			b.Fatal(err)
		}
		if at += 2048; at == len(stream) {
			at = 0
		}
	}
}
