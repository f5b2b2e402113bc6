package pki_test

import (
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/pki"
)

func TestParseHosts(t *testing.T) {
	tests := []struct {
		name    string
		hosts   []string
		want    string // Hosts.String()
		wantErr string
	}{
		{"one name", []string{"localhost"}, "localhost", ""},
		{"normalised and sorted", []string{"IoT.Example.COM.", " localhost ", "::1", "127.0.0.1", "[fe80::1]", "localhost"}, "iot.example.com,localhost,127.0.0.1,::1,fe80::1", ""},
		{"wildcard", []string{"*.iot.example.com"}, "*.iot.example.com", ""},
		{"underscore", []string{"my_host.local"}, "my_host.local", ""},
		{"v4-mapped v6 is v4", []string{"::ffff:10.0.0.1", "10.0.0.1"}, "10.0.0.1", ""},
		{"none", nil, "", "no host names or addresses"},
		{"empty entry", []string{"localhost", ""}, "", "empty host name"},
		{"port", []string{"localhost:8883"}, "", `"localhost:8883"`},
		{"url", []string{"mqtts://localhost"}, "", "not a DNS name"},
		{"bare wildcard", []string{"*"}, "", "not a DNS name"},
		{"wildcard not first", []string{"iot.*.example.com"}, "", "not a DNS name"},
		{"empty label", []string{"a..b"}, "", "empty label"},
		{"long label", []string{strings.Repeat("a", 64) + ".com"}, "", "longer than 63"},
		{"space inside", []string{"my host"}, "", "character ' '"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pki.ParseHosts(tt.hosts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseHosts error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want {
				t.Errorf("ParseHosts = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestHostsEqual(t *testing.T) {
	parse := func(hosts ...string) pki.Hosts {
		h, err := pki.ParseHosts(hosts)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	tests := []struct {
		name string
		a, b pki.Hosts
		want bool
	}{
		{"same set, other order", parse("a.example", "127.0.0.1", "b.example"), parse("b.example", "127.0.0.1", "A.example"), true},
		{"extra name", parse("a.example"), parse("a.example", "b.example"), false},
		{"other address", parse("127.0.0.1"), parse("127.0.0.2"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Equal(tt.b); got != tt.want {
				t.Errorf("Equal = %t, want %t", got, tt.want)
			}
		})
	}
}
