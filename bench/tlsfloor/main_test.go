package main

import (
	"bytes"
	"testing"
)

func TestSkipPacket(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []byte
		typ     byte
		wantErr bool
		rest    int // bytes left unread
	}{
		{"connect", []byte{0x10, 0x03, 'a', 'b', 'c', 0xc0, 0x00}, typeConnect, false, 2},
		{"pingreq", []byte{0xc0, 0x00}, typePingreq, false, 0},
		{"two-byte length", append([]byte{0x30, 0x80, 0x01}, make([]byte, 128)...), 3, false, 0},
		{"length too long", []byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x01}, 0, true, 0},
		{"packet too large", []byte{0x30, 0xff, 0xff, 0x7f}, 0, true, 0},
		{"truncated", []byte{0x10, 0x05, 'a'}, 0, true, 0},
		{"empty", nil, 0, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bytes.NewReader(tc.in)
			typ, err := skipPacket(r)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if err == nil && (typ != tc.typ || r.Len() != tc.rest) {
				t.Errorf("type %d with %d bytes left, want %d with %d", typ, r.Len(), tc.typ, tc.rest)
			}
		})
	}
}
