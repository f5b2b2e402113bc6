package pkitool_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/pkitool"
)

func TestSubjectName(t *testing.T) {
	full := pkitool.Subject{CommonName: "DemoThing", Country: "IN", Organization: "AMZ", OrganizationalUnit: "Line 4",
		State: "Karnataka", Locality: "Bengaluru", SerialNumber: "SN-0042", DNQualifier: "batch-7"}
	tests := []struct {
		name    string
		in      pkitool.Subject
		want    string // pkix.Name.String()
		wantErr string
	}{
		{"common name only", pkitool.Subject{CommonName: "DemoThing"}, "CN=DemoThing", ""},
		{"seed 000 CA", pkitool.Subject{Country: "IN", Organization: "AMZ"}, "O=AMZ,C=IN", ""},
		{"every attribute", full, "2.5.4.46=#130762617463682d37,SERIALNUMBER=SN-0042,CN=DemoThing,OU=Line 4,O=AMZ,L=Bengaluru,ST=Karnataka,C=IN", ""},
		{"empty", pkitool.Subject{}, "", "no attribute given"},
		{"country name spelled out", pkitool.Subject{Country: "India"}, "", "two-letter"},
		{"country with a digit", pkitool.Subject{Country: "I1"}, "", "two-letter"},
		{"long common name", pkitool.Subject{CommonName: strings.Repeat("x", 65)}, "", "65 characters long; the limit is 64"},
		{"newline", pkitool.Subject{CommonName: "a\nb"}, "", "control character"},
		{"blank", pkitool.Subject{CommonName: "  "}, "", "blank"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := tt.in.Name()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Name() error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := n.String(); got != tt.want {
				t.Errorf("Name() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSubjectOfRoundTrip(t *testing.T) {
	in := pkitool.Subject{CommonName: "DemoThing", Country: "IN", Organization: "AMZ", OrganizationalUnit: "Line 4",
		State: "Karnataka", Locality: "Bengaluru", SerialNumber: "SN-0042", DNQualifier: "batch-7"}
	dir := t.TempDir()
	res, err := pkitool.NewCSR(pkitool.CSRRequest{Subject: in, Output: pkitool.Output{Dir: dir}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, pkitool.SubjectOf(res.CSR.Subject)); diff != "" {
		t.Errorf("subject of the CSR (-want +got):\n%s", diff)
	}
}
