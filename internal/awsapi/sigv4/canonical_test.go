package sigv4

import (
	"bufio"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the expected part of the golden files")

// goldenSecret signed the requests in testdata/canonical (see generate.py).
const goldenSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

const markCanonical, markSTS = "--- canonical request\n", "--- string to sign\n"

// TestCanonicalGolden rebuilds the canonical requests of requests signed by
// botocore (testdata/canonical/*.txt: the request as sent, then the expected
// canonical requests and strings to sign) and checks each still verifies.
func TestCanonicalGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/canonical/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			input, want, ok := strings.Cut(string(data), "\n"+markCanonical)
			if !ok {
				t.Fatalf("no %q line", strings.TrimSpace(markCanonical))
			}
			r, body := readGoldenRequest(t, input)

			query, _ := url.ParseQuery(r.URL.RawQuery)
			a, err := parseAuthorization(r.Header, query)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			ph, err := payloadHash(r.Header, body)
			if err != nil {
				t.Fatalf("payload hash: %v", err)
			}
			var b strings.Builder
			for i, cr := range canonicalRequests(r, a, query, ph) {
				if i > 0 {
					b.WriteString(markCanonical)
				}
				b.WriteString(cr + "\n" + markSTS + stringToSign(a.amzDate, a.scope(), cr) + "\n")
			}
			got := b.String()

			if *update {
				if err := os.WriteFile(file, []byte(input+"\n"+markCanonical+got), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if got != want {
				t.Errorf("canonical requests:\n%s\nwant:\n%s", got, want)
			}

			v := &Verifier{
				Service: "iot",
				Secret:  func(string) (string, bool) { return goldenSecret, true },
				Now:     func() time.Time { return a.signedAt },
			}
			if _, err := v.Verify(r, body); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

// readGoldenRequest parses a request written with LF line ends, as a server
// would receive it.
func readGoldenRequest(t *testing.T, text string) (*http.Request, []byte) {
	t.Helper()
	head, body, _ := strings.Cut(text, "\n\n")
	raw := strings.ReplaceAll(head, "\n", "\r\n") + "\r\n\r\n" + body
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("read request: %v", err)
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return r, b
}
