package packet

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var cmpProps = cmp.Options{cmp.AllowUnexported(Properties{}), cmpopts.EquateEmpty()}

func props(set func(p *Properties), ids ...byte) Properties {
	var p Properties
	set(&p)
	for _, id := range ids {
		p.Set(id)
	}
	return p
}

// split parses the fixed header of b and returns it with the body.
func split(t *testing.T, b []byte) (Header, []byte) {
	t.Helper()
	h, n, err := ParseHeader(b, 0)
	if err != nil || n == 0 {
		t.Fatalf("ParseHeader(% x) = %v, %d, %v", b, h, n, err)
	}
	if got := len(b) - n; got != h.Length {
		t.Fatalf("remaining length %d, body %d bytes", h.Length, got)
	}
	return h, b[n:]
}

func TestConnectRoundTrip(t *testing.T) {
	cases := map[string]Connect{
		"3.1.1 minimal":     {Version: Version311, Clean: true, KeepAlive: 60, ClientID: "dev-1"},
		"3.1.1 empty id":    {Version: Version311, Clean: true},
		"3.1.1 will, login": {Version: Version311, KeepAlive: 30, ClientID: "d", Will: &Will{Topic: "t/w", Payload: []byte("gone"), QoS: 1, Retain: true}, HasUsername: true, Username: "u", HasPassword: true, Password: []byte{0, 1}},
		"5 with properties": {Version: Version5, Clean: true, KeepAlive: 1200, ClientID: "thing", Props: props(func(p *Properties) {
			p.SessionExpiry = 3600
			p.ReceiveMaximum = 10
			p.TopicAliasMaximum = 4
			p.MaximumPacketSize = 1 << 20
			p.RequestProblemInfo = 1
			p.User = []UserProperty{{"a", "1"}, {"a", "2"}}
		}, PropSessionExpiry, PropReceiveMaximum, PropTopicAliasMaximum, PropMaximumPacketSize, PropRequestProblemInfo, PropUser)},
		"5 will properties": {Version: Version5, ClientID: "w", Will: &Will{Topic: "lwt", QoS: 0, Payload: nil, Props: props(func(p *Properties) {
			p.WillDelay = 5
			p.MessageExpiry = 9
			p.ContentType = "application/json"
			p.ResponseTopic = "r"
			p.CorrelationData = []byte{1, 2}
			p.PayloadFormat = 1
		}, PropWillDelay, PropMessageExpiry, PropContentType, PropResponseTopic, PropCorrelationData, PropPayloadFormat)}},
		"5 password alone": {Version: Version5, ClientID: "p", HasPassword: true, Password: []byte("x")},
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			h, body := split(t, want.Append(nil))
			if h.Type != CONNECT {
				t.Fatalf("type %v", h.Type)
			}
			got, err := DecodeConnect(body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&want, got, cmpProps); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPublishRoundTrip(t *testing.T) {
	cases := map[string]Publish{
		"qos 0":          {Topic: "a/b", Payload: []byte("hi")},
		"qos 1 retained": {Topic: "$aws/things/x/shadow/update", PacketID: 7, QoS: 1, Retain: true, Dup: true, Payload: []byte("{}")},
		"empty payload":  {Topic: "t", QoS: 1, PacketID: 65535},
	}
	for name, want := range cases {
		for _, v := range []byte{Version311, Version5} {
			t.Run(name, func(t *testing.T) {
				b := want.Append(nil, v)
				if len(b) != want.Size(v) {
					t.Errorf("Size %d, encoded %d", want.Size(v), len(b))
				}
				h, body := split(t, b)
				got, err := DecodePublish(h.Flags, body, v)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(&want, got, cmpProps); diff != "" {
					t.Errorf("v%d round trip (-want +got):\n%s", v, diff)
				}
			})
		}
	}
	t.Run("5 properties", func(t *testing.T) {
		want := Publish{Topic: "", QoS: 1, PacketID: 3, Payload: []byte("x"), Props: props(func(p *Properties) {
			p.TopicAlias = 2
			p.MessageExpiry = 60
			p.SubscriptionIDs = []int{1, 268435455}
			p.User = []UserProperty{{"k", "v"}}
		}, PropTopicAlias, PropMessageExpiry, PropSubscriptionID, PropUser)}
		h, body := split(t, want.Append(nil, Version5))
		got, err := DecodePublish(h.Flags, body, Version5)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&want, got, cmpProps); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	})
}

func TestAcksAndSubscriptionsRoundTrip(t *testing.T) {
	for _, v := range []byte{Version311, Version5} {
		sub := Subscribe{PacketID: 9, Subscriptions: []Subscription{{Filter: "a/+", QoS: 1}, {Filter: "#"}}}
		if v == Version5 {
			sub.Subscriptions[1].NoLocal = true
			sub.Subscriptions[1].RetainAsPublished = true
			sub.Subscriptions[1].RetainHandling = 2
			sub.Props = props(func(p *Properties) { p.SubscriptionIDs = []int{5} }, PropSubscriptionID)
		}
		h, body := split(t, sub.Append(nil, v))
		if h.Type != SUBSCRIBE || h.Flags != 2 {
			t.Fatalf("v%d SUBSCRIBE header %+v", v, h)
		}
		gotSub, err := DecodeSubscribe(body, v)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&sub, gotSub, cmpProps); diff != "" {
			t.Errorf("v%d SUBSCRIBE (-want +got):\n%s", v, diff)
		}

		unsub := Unsubscribe{PacketID: 10, Filters: []string{"a/+", "b"}}
		_, body = split(t, unsub.Append(nil, v))
		gotUnsub, err := DecodeUnsubscribe(body, v)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&unsub, gotUnsub, cmpProps); diff != "" {
			t.Errorf("v%d UNSUBSCRIBE (-want +got):\n%s", v, diff)
		}

		suback := Suback{PacketID: 9, Codes: []byte{1, 0x87}}
		_, body = split(t, suback.Append(nil, v))
		gotSuback, err := DecodeSuback(body, v)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&suback, gotSuback, cmpProps); diff != "" {
			t.Errorf("v%d SUBACK (-want +got):\n%s", v, diff)
		}

		ack := Ack{Type: PUBACK, PacketID: 4}
		b := ack.Append(nil, v)
		if !bytes.Equal(b, []byte{0x40, 2, 0, 4}) {
			t.Errorf("v%d success PUBACK % x, want the short form", v, b)
		}
		connack := Connack{SessionPresent: true, Code: 0}
		_, body = split(t, connack.Append(nil, v))
		gotConnack, err := DecodeConnack(body, v)
		if err != nil || !gotConnack.SessionPresent || gotConnack.Code != 0 {
			t.Errorf("v%d CONNACK %+v, %v", v, gotConnack, err)
		}
	}
	ack := Ack{Type: PUBACK, PacketID: 4, Code: NotAuthorized, Props: props(func(p *Properties) { p.ReasonString = "no" }, PropReasonString)}
	h, body := split(t, ack.Append(nil, Version5))
	got, err := DecodeAck(h.Type, body, Version5)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&ack, got, cmpProps); diff != "" {
		t.Errorf("PUBACK 0x87 (-want +got):\n%s", diff)
	}
	d := Disconnect{Code: SessionTakenOver}
	_, body = split(t, d.Append(nil, Version5))
	gotD, err := DecodeDisconnect(body, Version5)
	if err != nil || gotD.Code != SessionTakenOver {
		t.Errorf("DISCONNECT %+v, %v", gotD, err)
	}
	if b := (&Disconnect{}).Append(nil, Version5); !bytes.Equal(b, []byte{0xE0, 0}) {
		t.Errorf("normal DISCONNECT % x", b)
	}
}

func TestParseHeader(t *testing.T) {
	cases := []struct {
		name    string
		in      []byte
		max     int
		wantN   int
		wantLen int
		code    byte // 0: no error
	}{
		{name: "pingreq", in: []byte{0xC0, 0}, wantN: 2},
		{name: "partial length", in: []byte{0x30, 0x80}, wantN: 0},
		{name: "one byte", in: []byte{0x30}, wantN: 0},
		{name: "four byte length", in: []byte{0x30, 0xFF, 0xFF, 0xFF, 0x7F}, wantN: 5, wantLen: 268435455},
		{name: "five byte length", in: []byte{0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}, code: MalformedPacket},
		{name: "over-long length", in: []byte{0x30, 0x80, 0x00}, code: MalformedPacket},
		{name: "reserved type", in: []byte{0x00, 0}, code: MalformedPacket},
		{name: "subscribe flags", in: []byte{0x80, 0}, code: MalformedPacket},
		{name: "pingreq flags", in: []byte{0xC1, 0}, code: MalformedPacket},
		{name: "pubrel flags", in: []byte{0x62, 2}, wantN: 2, wantLen: 2},
		{name: "at the limit", in: []byte{0x30, 8}, max: 10, wantN: 2, wantLen: 8},
		{name: "one over the limit, counted whole", in: []byte{0x30, 9}, max: 10, code: PacketTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, n, err := ParseHeader(c.in, c.max)
			if c.code != 0 {
				var pe *Error
				if !errors.As(err, &pe) || pe.Code != c.code {
					t.Fatalf("err = %v, want code 0x%02X", err, c.code)
				}
				return
			}
			if err != nil || n != c.wantN || n > 0 && h.Length != c.wantLen {
				t.Fatalf("got %+v, %d, %v; want n %d length %d", h, n, err, c.wantN, c.wantLen)
			}
		})
	}
}

// refusals are bodies every decoder must refuse, with the reason code.
var refusals = []struct {
	name    string
	typ     Type
	flags   byte
	version byte
	body    []byte
	code    byte
}{
	{"connect reserved flag", CONNECT, 0, 4, connectBody(4, 0x03), MalformedPacket},
	{"connect will qos without will", CONNECT, 0, 4, connectBody(4, 0x0A), MalformedPacket},
	{"connect will qos 3", CONNECT, 0, 4, connectBody(4, 0x1C), MalformedPacket},
	{"connect 3.1.1 password without user", CONNECT, 0, 4, connectBody(4, 0x42), ProtocolError},
	{"connect level 3", CONNECT, 0, 4, []byte{0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 3, 2, 0, 60, 0, 0}, UnsupportedProtocolVersion},
	{"connect level 6", CONNECT, 0, 4, []byte{0, 4, 'M', 'Q', 'T', 'T', 6, 2, 0, 60, 0, 0}, UnsupportedProtocolVersion},
	{"connect trailing bytes", CONNECT, 0, 4, append(connectBody(4, 0x02), 0), MalformedPacket},
	{"connect client id with NUL", CONNECT, 0, 4, []byte{0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 1, 0}, MalformedPacket},
	{"connect client id bad utf-8", CONNECT, 0, 4, []byte{0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 1, 0xFF}, MalformedPacket},
	{"connect truncated", CONNECT, 0, 4, []byte{0, 4, 'M', 'Q'}, MalformedPacket},
	{"connect 5 duplicate property", CONNECT, 0, 5, []byte{0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 60, 10, 0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 2, 0, 0}, ProtocolError},
	{"connect 5 unknown property", CONNECT, 0, 5, []byte{0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 60, 2, 0x7F, 0, 0, 0}, MalformedPacket},
	{"connect 5 property of another packet", CONNECT, 0, 5, []byte{0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 60, 3, 0x23, 0, 1, 0, 0}, ProtocolError},
	{"connect 5 receive maximum 0", CONNECT, 0, 5, []byte{0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 60, 3, 0x21, 0, 0, 0, 0}, ProtocolError},
	{"connect 5 property length past the end", CONNECT, 0, 5, []byte{0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 60, 9, 0x21, 0, 1}, MalformedPacket},
	{"publish qos 3", PUBLISH, 0x6, 4, []byte{0, 1, 't', 0, 1}, MalformedPacket},
	{"publish qos 0 dup", PUBLISH, 0x8, 4, []byte{0, 1, 't'}, ProtocolError},
	{"publish packet id 0", PUBLISH, 0x2, 4, []byte{0, 1, 't', 0, 0}, ProtocolError},
	{"publish topic too short", PUBLISH, 0, 4, []byte{0, 5, 't'}, MalformedPacket},
	{"publish 5 payload format 2", PUBLISH, 0, 5, []byte{0, 1, 't', 2, 0x01, 2}, ProtocolError},
	{"publish 5 subscription id 0", PUBLISH, 0, 5, []byte{0, 1, 't', 2, 0x0B, 0}, ProtocolError},
	{"puback packet id 0", PUBACK, 0, 4, []byte{0, 0}, ProtocolError},
	{"puback 3.1.1 long", PUBACK, 0, 4, []byte{0, 1, 0}, MalformedPacket},
	{"subscribe packet id 0", SUBSCRIBE, 2, 4, []byte{0, 0, 0, 1, 'a', 0}, ProtocolError},
	{"subscribe no filter", SUBSCRIBE, 2, 4, []byte{0, 1}, ProtocolError},
	{"subscribe qos 3", SUBSCRIBE, 2, 4, []byte{0, 1, 0, 1, 'a', 3}, MalformedPacket},
	{"subscribe 3.1.1 reserved bits", SUBSCRIBE, 2, 4, []byte{0, 1, 0, 1, 'a', 4}, MalformedPacket},
	{"subscribe 5 reserved bits", SUBSCRIBE, 2, 5, []byte{0, 1, 0, 0, 1, 'a', 0x40}, MalformedPacket},
	{"subscribe 5 retain handling 3", SUBSCRIBE, 2, 5, []byte{0, 1, 0, 0, 1, 'a', 0x30}, ProtocolError},
	{"subscribe 5 two subscription ids", SUBSCRIBE, 2, 5, []byte{0, 1, 4, 0x0B, 1, 0x0B, 2, 0, 1, 'a', 0}, ProtocolError},
	{"subscribe missing options", SUBSCRIBE, 2, 4, []byte{0, 1, 0, 1, 'a'}, MalformedPacket},
	{"unsubscribe no filter", UNSUBSCRIBE, 2, 4, []byte{0, 1}, ProtocolError},
	{"disconnect 3.1.1 with body", DISCONNECT, 0, 4, []byte{0}, MalformedPacket},
	{"disconnect 5 trailing", DISCONNECT, 0, 5, []byte{0, 0, 1}, MalformedPacket},
	{"auth data without method", AUTH, 0, 5, []byte{0x18, 3, 0x16, 0, 0}, ProtocolError},
	{"varint over-long in properties", PUBLISH, 0, 5, []byte{0, 1, 't', 0x80, 0x00}, MalformedPacket},
}

func connectBody(level, flags byte) []byte {
	return []byte{0, 4, 'M', 'Q', 'T', 'T', level, flags, 0, 60, 0, 1, 'c'}
}

// decode runs the decoder for t, as the engine does.
func decode(t Type, flags byte, body []byte, version byte) (any, error) {
	switch t {
	case CONNECT:
		return DecodeConnect(body)
	case PUBLISH:
		return DecodePublish(flags, body, version)
	case PUBACK, PUBREC, PUBREL, PUBCOMP:
		return DecodeAck(t, body, version)
	case SUBSCRIBE:
		return DecodeSubscribe(body, version)
	case UNSUBSCRIBE:
		return DecodeUnsubscribe(body, version)
	case DISCONNECT:
		return DecodeDisconnect(body, version)
	case AUTH:
		return DecodeAuth(body)
	case CONNACK:
		return DecodeConnack(body, version)
	case SUBACK:
		return DecodeSuback(body, version)
	case UNSUBACK:
		return DecodeUnsuback(body, version)
	}
	return nil, nil
}

func TestRefusals(t *testing.T) {
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			_, err := decode(c.typ, c.flags, c.body, c.version)
			var pe *Error
			if !errors.As(err, &pe) || pe.Code != c.code {
				t.Fatalf("err = %v, want code 0x%02X", err, c.code)
			}
			if pe.Msg == "" {
				t.Error("no message")
			}
		})
	}
}

// FuzzDecode feeds every decoder arbitrary bytes: none may panic, and a
// packet decoded is encoded again to bytes that decode to the same packet.
func FuzzDecode(f *testing.F) {
	for _, c := range refusals {
		f.Add(byte(c.typ), c.flags, c.version == Version5, c.body)
	}
	f.Add(byte(CONNECT), byte(0), false, connectBody(4, 2))
	f.Add(byte(CONNECT), byte(0), true, (&Connect{Version: Version5, ClientID: "x", Will: &Will{Topic: "w"}}).Append(nil)[2:])
	f.Add(byte(PUBLISH), byte(2), true, []byte{0, 1, 't', 0, 1, 0, 'p'})
	f.Fuzz(func(t *testing.T, typ, flags byte, v5 bool, body []byte) {
		version := Version311
		if v5 {
			version = Version5
		}
		typ = typ%15 + 1
		got, err := decode(Type(typ), flags&0xF, body, version)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not an *Error", err)
			}
			return
		}
		var again []byte
		switch p := got.(type) {
		case *Connect:
			again = p.Append(nil)
			version = p.Version
		case *Publish:
			again = p.Append(nil, version)
		case *Subscribe:
			again = p.Append(nil, version)
		case *Unsubscribe:
			again = p.Append(nil, version)
		case *Ack:
			again = p.Append(nil, version)
		default:
			return
		}
		h, n, err := ParseHeader(again, 0)
		if err != nil || n == 0 {
			t.Fatalf("re-encoded header: %v", err)
		}
		back, err := decode(h.Type, h.Flags, again[n:], version)
		if err != nil {
			t.Fatalf("re-encoded %T does not decode: %v", got, err)
		}
		if diff := cmp.Diff(got, back, cmpProps); diff != "" {
			t.Fatalf("re-encoded %T differs (-first +again):\n%s", got, diff)
		}
	})
}
