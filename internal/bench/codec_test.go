package bench

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/mochi-mqtt/server/v2/packets"
)

// mochiDecode decodes one packet with mochi's codec, as a 3.1.1 server would.
func mochiDecode(t *testing.T, b []byte) packets.Packet {
	t.Helper()
	r := bytes.NewReader(b)
	hb, err := r.ReadByte()
	if err != nil {
		t.Fatal(err)
	}
	var fh packets.FixedHeader
	if err := fh.Decode(hb); err != nil {
		t.Fatalf("mochi: fixed header %#x: %v", hb, err)
	}
	n, _, err := packets.DecodeLength(r)
	if err != nil {
		t.Fatalf("mochi: length: %v", err)
	}
	fh.Remaining = n
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		t.Fatalf("mochi: body of %d bytes: %v", n, err)
	}
	if r.Len() != 0 {
		t.Fatalf("%d bytes after the packet", r.Len())
	}
	pk := packets.Packet{FixedHeader: fh, ProtocolVersion: protocolVersion}
	switch fh.Type {
	case packets.Connect:
		err = pk.ConnectDecode(body)
	case packets.Publish:
		err = pk.PublishDecode(body)
	case packets.Puback:
		err = pk.PubackDecode(body)
	case packets.Subscribe:
		err = pk.SubscribeDecode(body)
	case packets.Pingreq, packets.Disconnect:
	default:
		t.Fatalf("mochiDecode: type %d", fh.Type)
	}
	if err != nil {
		t.Fatalf("mochi: decode %s: %v", packets.PacketNames[fh.Type], err)
	}
	return pk
}

// mochiEncode encodes a server's packet with mochi's codec.
func mochiEncode(t *testing.T, pk packets.Packet) []byte {
	t.Helper()
	pk.ProtocolVersion = protocolVersion
	var buf bytes.Buffer
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connack:
		err = pk.ConnackEncode(&buf)
	case packets.Publish:
		err = pk.PublishEncode(&buf)
	case packets.Puback:
		err = pk.PubackEncode(&buf)
	case packets.Suback:
		err = pk.SubackEncode(&buf)
	case packets.Pingresp:
		err = pk.PingrespEncode(&buf)
	case packets.Disconnect:
		err = pk.DisconnectEncode(&buf)
	default:
		t.Fatalf("mochiEncode: type %d", pk.FixedHeader.Type)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPublishEncodingReadsInMochi(t *testing.T) {
	for _, tc := range []struct {
		name    string
		topic   string
		qos     byte
		id      uint16
		payload int
	}{
		{"qos 0 empty", "a", 0, 0, 0},
		{"qos 0 small", "DemoThing/bench", 0, 0, 64},
		{"qos 1", "DemoThing/bench", 1, 7, 64},
		{"qos 1 largest id", "t", 1, 65535, 20},
		{"one-byte length limit", "t", 0, 0, 127 - 3},
		{"two-byte length", "t", 0, 0, 128 - 3},
		{"two-byte length limit", "t", 1, 1, 16383 - 5},
		{"three-byte length", "t", 1, 1, 16384 - 5},
		{"128 KiB", "topic/with/levels", 1, 2, 128 * 1024},
	} {
		t.Run(tc.name, func(t *testing.T) {
			payload := bytes.Repeat([]byte{0xa5}, tc.payload)
			b := appendPublish(nil, tc.topic, tc.qos, tc.id, payload)
			pk := mochiDecode(t, b)
			got := struct {
				Topic   string
				QoS     byte
				ID      uint16
				Payload []byte
			}{pk.TopicName, pk.FixedHeader.Qos, pk.PacketID, pk.Payload}
			want := got
			want.Topic, want.QoS, want.Payload = tc.topic, tc.qos, payload
			want.ID = 0
			if tc.qos > 0 {
				want.ID = tc.id
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("mochi read (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClientPacketsReadInMochi(t *testing.T) {
	connect, err := encodeConnect("DemoThing-c0", 60)
	if err != nil {
		t.Fatal(err)
	}
	pk := mochiDecode(t, connect)
	if got, want := [4]any{pk.Connect.ClientIdentifier, pk.Connect.Keepalive, pk.Connect.Clean, string(pk.Connect.ProtocolName)},
		[4]any{"DemoThing-c0", uint16(60), true, "MQTT"}; got != want {
		t.Errorf("CONNECT read as %v, want %v", got, want)
	}
	if code := pk.ConnectValidate(); code != packets.CodeSuccess {
		t.Errorf("mochi finds the CONNECT invalid: %v", code)
	}

	sub, err := encodeSubscribe(9, "+/bench", 1)
	if err != nil {
		t.Fatal(err)
	}
	pk = mochiDecode(t, sub)
	if len(pk.Filters) != 1 || pk.Filters[0].Filter != "+/bench" || pk.Filters[0].Qos != 1 || pk.PacketID != 9 {
		t.Errorf("SUBSCRIBE read as id %d, filters %+v", pk.PacketID, pk.Filters)
	}

	if pk = mochiDecode(t, appendPuback(nil, 513)); pk.PacketID != 513 {
		t.Errorf("PUBACK read with id %d, want 513", pk.PacketID)
	}
	for name, b := range map[string][]byte{"PINGREQ": pingreqPacket, "DISCONNECT": disconnectPacket} {
		want := mochiEncodeClient(t, b[0]>>4)
		if !bytes.Equal(b, want) {
			t.Errorf("%s = %x, mochi encodes %x", name, b, want)
		}
	}
}

func mochiEncodeClient(t *testing.T, typ byte) []byte {
	t.Helper()
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: typ}, ProtocolVersion: protocolVersion}
	var buf bytes.Buffer
	var err error
	switch typ {
	case packets.Pingreq:
		err = pk.PingreqEncode(&buf)
	case packets.Disconnect:
		err = pk.DisconnectEncode(&buf)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadServerPackets(t *testing.T) {
	big := bytes.Repeat([]byte("p"), 20000)
	for _, tc := range []struct {
		name string
		pk   packets.Packet
		want Packet
	}{
		{"CONNACK accepted", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connack}},
			Packet{Type: packets.Connack}},
		{"CONNACK session present", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connack}, SessionPresent: true},
			Packet{Type: packets.Connack, SessionPresent: true}},
		{"CONNACK not authorized", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connack}, ReasonCode: 5},
			Packet{Type: packets.Connack, ReturnCode: 5}},
		{"PUBLISH qos 0", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, TopicName: "a/b", Payload: []byte("hi")},
			Packet{Type: packets.Publish, Topic: []byte("a/b"), Payload: []byte("hi")}},
		{"PUBLISH qos 1 retained", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1, Retain: true}, TopicName: "a", PacketID: 300, Payload: big},
			Packet{Type: packets.Publish, Flags: 1<<1 | 1, ID: 300, Topic: []byte("a"), Payload: big}},
		{"PUBLISH empty payload", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, TopicName: "a", PacketID: 1},
			Packet{Type: packets.Publish, Flags: 1 << 1, ID: 1, Topic: []byte("a")}},
		{"PUBACK", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: 65535},
			Packet{Type: packets.Puback, ID: 65535}},
		{"SUBACK granted", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Suback}, PacketID: 1, ReasonCodes: []byte{1}},
			Packet{Type: packets.Suback, ID: 1, Codes: []byte{1}}},
		{"SUBACK refused", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Suback}, PacketID: 2, ReasonCodes: []byte{0x80}},
			Packet{Type: packets.Suback, ID: 2, Codes: []byte{0x80}}},
		{"PINGRESP", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingresp}},
			Packet{Type: packets.Pingresp}},
		{"DISCONNECT", packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}},
			Packet{Type: packets.Disconnect}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := mochiEncode(t, tc.pk)
			var buf []byte
			r := bufio.NewReader(bytes.NewReader(b))
			got, err := readPacket(r, &buf)
			if err != nil {
				t.Fatalf("readPacket(%x): %v", b[:min(len(b), 16)], err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("readPacket (-want +got):\n%s", diff)
			}
			if _, err := readPacket(r, &buf); err != io.EOF {
				t.Errorf("after the packet: %v, want EOF", err)
			}
		})
	}
}

func TestReadMalformedPackets(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want error // errMalformed, or an io error
	}{
		{"nothing", nil, io.EOF},
		{"header only", []byte{0x20}, io.EOF},
		{"five-byte length", []byte{0x30, 0x80, 0x80, 0x80, 0x80, 0x01}, errMalformed},
		{"larger than allowed", append([]byte{0x30}, appendLength(nil, maxIncoming+1)...), errMalformed},
		{"truncated body", []byte{0x20, 0x02, 0x00}, io.ErrUnexpectedEOF},
		{"short CONNACK", []byte{0x20, 0x01, 0x00}, errMalformed},
		{"long CONNACK", []byte{0x20, 0x03, 0x00, 0x00, 0x00}, errMalformed},
		{"PUBLISH QoS 3", []byte{0x36, 0x03, 0x00, 0x01, 'a'}, errMalformed},
		{"PUBLISH topic past the end", []byte{0x30, 0x03, 0x00, 0x05, 'a'}, errMalformed},
		{"PUBLISH QoS 1 without id", []byte{0x32, 0x03, 0x00, 0x01, 'a'}, errMalformed},
		{"short PUBACK", []byte{0x40, 0x01, 0x00}, errMalformed},
		{"SUBACK without codes", []byte{0x90, 0x02, 0x00, 0x01}, errMalformed},
		{"CONNECT from a server", []byte{0x10, 0x00}, errMalformed},
		{"PUBREL", []byte{0x62, 0x02, 0x00, 0x01}, errMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf []byte
			_, err := readPacket(bufio.NewReader(bytes.NewReader(tc.in)), &buf)
			if !errors.Is(err, tc.want) {
				t.Errorf("readPacket(%x) = %v, want %v", tc.in, err, tc.want)
			}
		})
	}
}

func TestLengthRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 16383, 16384, 2097151, 2097152, 268435455} {
		b := appendLength(nil, n)
		got, err := readLength(bytes.NewReader(b))
		if err != nil || got != n {
			t.Errorf("readLength(appendLength(%d) = %x) = %d, %v", n, b, got, err)
		}
		m, _, err := packets.DecodeLength(bytes.NewReader(b))
		if err != nil || m != n {
			t.Errorf("mochi reads appendLength(%d) = %x as %d, %v", n, b, m, err)
		}
		var fh bytes.Buffer
		(&packets.FixedHeader{Type: packets.Publish, Remaining: n}).Encode(&fh)
		if !bytes.Equal(fh.Bytes()[1:], b) {
			t.Errorf("appendLength(%d) = %x, mochi encodes %x", n, b, fh.Bytes()[1:])
		}
	}
}

// FuzzReadPacket checks that no input panics the reader, and that every
// PUBLISH it accepts encodes to bytes it reads back the same.
func FuzzReadPacket(f *testing.F) {
	f.Add(appendPublish(nil, "a/b", 1, 3, []byte("payload")))
	f.Add(appendPublish(nil, "a", 0, 0, nil))
	f.Add(appendPuback(nil, 7))
	f.Add([]byte{0x20, 0x02, 0x01, 0x00})
	f.Add([]byte{0x90, 0x03, 0x00, 0x01, 0x80})
	f.Add([]byte{0x30, 0x80, 0x80, 0x80, 0x80, 0x01})
	f.Fuzz(func(t *testing.T, in []byte) {
		var buf []byte
		p, err := readPacket(bufio.NewReader(bytes.NewReader(in)), &buf)
		if err != nil || p.Type != packets.Publish || p.QoS() > 1 {
			return
		}
		out := appendPublish(nil, string(p.Topic), p.QoS(), p.ID, p.Payload)
		var buf2 []byte
		q, err := readPacket(bufio.NewReader(bytes.NewReader(out)), &buf2)
		if err != nil {
			t.Fatalf("re-encoded PUBLISH %x: %v", out, err)
		}
		p.Flags &= 3 << 1 // DUP and RETAIN are not re-encoded
		if diff := cmp.Diff(p, q, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("PUBLISH changed through re-encoding (-first +second):\n%s", diff)
		}
	})
}
