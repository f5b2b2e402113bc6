package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestConsoleLink: `iotcore console link` makes, from the data directory's
// credentials, a link that signs a browser into the running server's
// console once; serve itself prints the command, not a link, when its
// output is no terminal (a log).
func TestConsoleLink(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	srv := startServe(t, bin, data)
	if out := srv.out.String(); strings.Contains(out, "/console/link?token=") || !strings.Contains(out, "iotcore console link --data-dir") {
		t.Errorf("serve's output to a non-terminal should tell how to make a sign-in link, not give one:\n%s", out)
	}
	link := strings.TrimSpace(mustCLI(t, bin, t.TempDir(), noAWSEnv(), "console", "link", "--data-dir", data, "--api-url", srv.endpoint).stdout)
	if !strings.HasPrefix(link, srv.endpoint+"/console/link?token=") {
		t.Fatalf("console link printed %q", link)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for i, want := range []int{http.StatusSeeOther, http.StatusUnauthorized} {
		res, err := client.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("use %d of the link: %s, want %d", i+1, res.Status, want)
		}
	}
	res := runCLI(t, bin, t.TempDir(), noAWSEnv(), "console", "link", "--data-dir", t.TempDir())
	if res.code == 0 || !strings.Contains(res.stderr, "pass --data-dir") {
		t.Errorf("console link without credentials: exit %d\n%s", res.code, res.stderr)
	}
}
