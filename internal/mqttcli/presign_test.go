package mqttcli_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iotcore/iotcore/internal/awsapi/sigv4"
	"github.com/iotcore/iotcore/internal/mqttcli"
)

// TestPresignURL checks the URL against the server's verifier, with and
// without a session token (appended after signing, as AWS's SDKs do).
func TestPresignURL(t *testing.T) {
	now := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	v := &sigv4.Verifier{Service: mqttcli.SigningName, Now: func() time.Time { return now },
		Secret: func(id string) (string, bool) { return "secret", id == "AKIDTEST" }}
	for _, token := range []string{"", "session/token+="} {
		creds := aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "secret", SessionToken: token}
		s, err := mqttcli.PresignURL(context.Background(), creds, "localhost:8443", "eu-west-1", now)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if u.Scheme != "wss" || u.Host != "localhost:8443" || u.Path != "/mqtt" || u.Query().Get("X-Amz-Security-Token") != token {
			t.Errorf("PresignURL = %s", s)
		}
		r := httptest.NewRequest(http.MethodGet, u.RequestURI(), nil)
		r.Host = u.Host
		if id, err := v.VerifyPresigned(r); err != nil || id.Region != "eu-west-1" {
			t.Errorf("token %q: VerifyPresigned(%s) = %+v, %v", token, s, id, err)
		}
	}
}

// TestImports: the client knows nothing of the server's packages.
func TestImports(t *testing.T) {
	const pkg = "github.com/iotcore/iotcore/internal/mqttcli"
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/iotcore/iotcore/") && dep != pkg {
			t.Errorf("%s imports %s; it may import no iotcore package", pkg, dep)
		}
	}
}
