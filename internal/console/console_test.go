package console_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iot"
	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotcore/iotcore/internal/console"
	"github.com/iotcore/iotcore/internal/iottest"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/servertest"
)

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so that a test sees them.
type browser struct {
	*http.Client
	base string
}

func newHTTPBrowser(t testing.TB, gw *servertest.Gateway) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{Client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		base: gw.APIURL()}
}

// do sends a request (a form body for POST) and returns the status, the
// response and its body.
func (b *browser) do(t *testing.T, method, path string, form url.Values, header map[string]string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(data)
}

// signIn signs in with the admin key and returns the session's CSRF token.
func (b *browser) signIn(t *testing.T, gw *servertest.Gateway) string {
	t.Helper()
	res, _ := b.do(t, "POST", "/console/signin", url.Values{"access_key_id": {gw.Credentials.AccessKeyID},
		"secret_access_key": {gw.Credentials.SecretAccessKey}, "next": {"/console/things"}}, map[string]string{"Sec-Fetch-Site": "same-origin"})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/things" {
		t.Fatalf("sign-in answered %s, Location %q", res.Status, res.Header.Get("Location"))
	}
	_, page := b.do(t, "GET", "/console/", nil, nil)
	_, rest, ok := strings.Cut(page, `<meta name="csrf-token" content="`)
	if !ok {
		t.Fatalf("the signed-in page has no CSRF token:\n%s", page)
	}
	token, _, _ := strings.Cut(rest, `"`)
	return token
}

func TestConsoleRefusesWithoutSession(t *testing.T) {
	gw := servertest.Start(t)
	b := newHTTPBrowser(t, gw)
	for _, path := range []string{"/console/", "/console/things", "/console/things/x", "/console/certificates", "/console/cas",
		"/console/policies", "/console/templates", "/console/attempts", "/console/connections", "/console/rules", "/console/mqtt"} {
		res, _ := b.do(t, "GET", path, nil, nil)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/console/signin?next=") {
			t.Errorf("GET %s without a session: %s to %q, want 303 to the sign-in page", path, res.Status, res.Header.Get("Location"))
		}
	}
	for _, path := range []string{"/console/api/mqtt-url", "/console/certificates/abc/status", "/console/connections/disconnect", "/console/signout"} {
		res, _ := b.do(t, "POST", path, url.Values{}, map[string]string{"Sec-Fetch-Site": "same-origin"})
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST %s without a session: %s, want 401", path, res.Status)
		}
	}
	// The sign-in page and the assets need none.
	for _, path := range []string{"/console/signin", "/console/static/console.css", "/console/static/mqttpage.js"} {
		if res, _ := b.do(t, "GET", path, nil, nil); res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", path, res.Status)
		}
	}
	if res, _ := b.do(t, "GET", "/console/static/mqttpacket_test.mjs", nil, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("the JavaScript tests are served: %s", res.Status)
	}
	// Every response forbids framing and inline script.
	res, _ := b.do(t, "GET", "/console/signin", nil, nil)
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("Content-Security-Policy %q allows inline script or eval", csp)
	}
	if res.Header.Get("X-Frame-Options") != "DENY" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", res.Header)
	}
	// MQTT over WebSocket on the API listener needs a signed URL.
	res, _ = b.do(t, "GET", "/mqtt", nil, map[string]string{"Connection": "Upgrade", "Upgrade": "websocket",
		"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": "mqtt"})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("an unsigned WebSocket upgrade on /mqtt: %s, want 403", res.Status)
	}
}

func TestConsoleSignIn(t *testing.T) {
	gw := servertest.Start(t)
	b := newHTTPBrowser(t, gw)
	same := map[string]string{"Sec-Fetch-Site": "same-origin"}
	res, body := b.do(t, "POST", "/console/signin", url.Values{"access_key_id": {gw.Credentials.AccessKeyID}, "secret_access_key": {"wrong"}}, same)
	if res.StatusCode != http.StatusUnauthorized || len(res.Cookies()) != 0 || !strings.Contains(body, "not the admin credentials") {
		t.Errorf("a wrong secret: %s, cookies %v", res.Status, res.Cookies())
	}
	// A sign-in form posted from another site (login CSRF) is refused.
	res, _ = b.do(t, "POST", "/console/signin", url.Values{"access_key_id": {gw.Credentials.AccessKeyID},
		"secret_access_key": {gw.Credentials.SecretAccessKey}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site sign-in: %s, want 403", res.Status)
	}
	// A redirect after sign-in stays in the console.
	res, _ = b.do(t, "POST", "/console/signin", url.Values{"access_key_id": {gw.Credentials.AccessKeyID},
		"secret_access_key": {gw.Credentials.SecretAccessKey}, "next": {"//evil.example/"}}, same)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/" {
		t.Errorf("sign-in with next=//evil.example/: %s to %q", res.Status, res.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		cookie = c
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/console/" {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/console/", cookie)
	}
	// Sign-out ends the session.
	token := b.signIn(t, gw)
	if res, _ := b.do(t, "POST", "/console/signout", url.Values{"csrf_token": {token}}, same); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %s", res.Status)
	}
	if res, _ := b.do(t, "GET", "/console/things", nil, nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("after sign-out GET /console/things: %s, want a redirect to sign in", res.Status)
	}
}

func TestConsoleOneTimeLink(t *testing.T) {
	gw := servertest.Start(t)
	link := gw.ConsoleSignInLink()
	u, err := url.Parse(link)
	if err != nil || u.Path != "/console/link" {
		t.Fatalf("link %q", link)
	}
	b := newHTTPBrowser(t, gw)
	if res, _ := b.do(t, "GET", u.RequestURI(), nil, nil); res.StatusCode != http.StatusSeeOther || len(res.Cookies()) != 1 {
		t.Fatalf("the link: %s, cookies %v", res.Status, res.Cookies())
	}
	if res, _ := b.do(t, "GET", "/console/things", nil, nil); res.StatusCode != http.StatusOK {
		t.Errorf("signed in with the link, GET /console/things: %s", res.Status)
	}
	// Used once, it signs no one in again; a forged one never does.
	other := newHTTPBrowser(t, gw)
	if res, _ := other.do(t, "GET", u.RequestURI(), nil, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the link a second time: %s, want 401", res.Status)
	}
	forged := console.SignInLink(gw.APIURL(), console.Credentials{AccessKeyID: gw.Credentials.AccessKeyID, SecretAccessKey: "not-the-secret"}, time.Now())
	fu, _ := url.Parse(forged)
	if res, _ := other.do(t, "GET", fu.RequestURI(), nil, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a link signed with another secret: %s, want 401", res.Status)
	}
	expired := console.SignInLink(gw.APIURL(), console.Credentials{SecretAccessKey: gw.Credentials.SecretAccessKey}, time.Now().Add(-2*console.LinkLifetime))
	eu, _ := url.Parse(expired)
	if res, _ := other.do(t, "GET", eu.RequestURI(), nil, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("an expired link: %s, want 401", res.Status)
	}
}

func TestConsoleCertificateActionsNeedCSRFToken(t *testing.T) {
	gw := servertest.Start(t)
	ctx := context.Background()
	kc, err := gw.Client.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	id := *kc.CertificateId
	b := newHTTPBrowser(t, gw)
	token := b.signIn(t, gw)
	path := "/console/certificates/" + id + "/status"
	status := func() string {
		c, err := gw.Registry.Certificate(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return c.Status
	}
	for name, tc := range map[string]struct {
		form   url.Values
		header map[string]string
	}{
		"no token":          {url.Values{"status": {"REVOKED"}}, map[string]string{"Sec-Fetch-Site": "same-origin"}},
		"a wrong token":     {url.Values{"status": {"REVOKED"}, "csrf_token": {"x" + token}}, map[string]string{"Sec-Fetch-Site": "same-origin"}},
		"from another site": {url.Values{"status": {"REVOKED"}, "csrf_token": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		"another origin":    {url.Values{"status": {"REVOKED"}, "csrf_token": {token}}, map[string]string{"Origin": "http://evil.example"}},
	} {
		if res, _ := b.do(t, "POST", path, tc.form, tc.header); res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %s, want 403", name, res.Status)
		}
	}
	if got := status(); got != "ACTIVE" {
		t.Fatalf("a refused request changed the certificate to %s", got)
	}
	res, _ := b.do(t, "POST", path, url.Values{"status": {"INACTIVE"}, "csrf_token": {token}}, map[string]string{"Sec-Fetch-Site": "same-origin"})
	if res.StatusCode != http.StatusSeeOther || status() != "INACTIVE" {
		t.Fatalf("deactivate with the token: %s, status %s", res.Status, status())
	}
	_, page := b.do(t, "GET", res.Header.Get("Location"), nil, nil)
	if !strings.Contains(page, "Certificate set INACTIVE.") || !strings.Contains(page, `id="set-active"`) {
		t.Errorf("the certificate page after deactivating does not offer to activate it:\n%s", page)
	}
	res, body := b.do(t, "POST", path, url.Values{"status": {"BOGUS"}, "csrf_token": {token}}, map[string]string{"X-CSRF-Token": token})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "ACTIVE, INACTIVE or REVOKED") {
		t.Errorf("status BOGUS: %s", res.Status)
	}
	// The API's admin secret appears on no page.
	for _, p := range []string{"/console/", "/console/certificates", "/console/certificates/" + id, "/console/mqtt", "/console/connections"} {
		if _, body := b.do(t, "GET", p, nil, nil); strings.Contains(body, gw.Credentials.SecretAccessKey) {
			t.Errorf("%s shows the secret access key", p)
		}
	}
}

func TestConsoleThingsArePagedAndSearched(t *testing.T) {
	gw := servertest.Start(t)
	ctx := context.Background()
	for i := range 60 {
		if _, err := gw.Registry.CreateThing(ctx, registry.CreateThingInput{Name: fmt.Sprintf("pump-%03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"valve-1", "pumpkin"} {
		if _, err := gw.Registry.CreateThing(ctx, registry.CreateThingInput{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	b := newHTTPBrowser(t, gw)
	b.signIn(t, gw)
	_, page := b.do(t, "GET", "/console/things?prefix=pump-", nil, nil)
	if n := strings.Count(page, `<tr><td><a href="/console/things/pump-`); n != 50 {
		t.Fatalf("the first page shows %d pumps, want 50", n)
	}
	if strings.Contains(page, "pumpkin") || strings.Contains(page, "valve-1") {
		t.Error("the search shows things that do not match")
	}
	_, rest, ok := strings.Cut(page, `id="next-page" rel="next" href="`)
	if !ok {
		_, rest, ok = strings.Cut(page, `href="/console/things?next=`)
		rest = "/console/things?next=" + rest
	}
	if !ok {
		t.Fatalf("no next page link:\n%s", page)
	}
	next, _, _ := strings.Cut(rest, `"`)
	next = strings.ReplaceAll(next, "&amp;", "&")
	_, page = b.do(t, "GET", next, nil, nil)
	if n := strings.Count(page, `<tr><td><a href="/console/things/pump-`); n != 10 || !strings.Contains(page, "pump-059") {
		t.Errorf("the second page (%s) shows %d pumps, want the last 10", next, n)
	}
	if res, _ := b.do(t, "GET", "/console/things/nope", nil, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("a thing that does not exist: %s", res.Status)
	}
	if res, _ := b.do(t, "GET", "/console/things?next=!!!", nil, nil); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a broken page token: %s", res.Status)
	}
}

func TestConsoleConnectionsAndDisconnect(t *testing.T) {
	gw := servertest.Start(t)
	cert, certID := gw.AllowedEverything(t)
	lost := make(chan error, 1)
	opts := paho.NewClientOptions().AddBroker("tls://" + gw.MQTTAddr().String()).SetClientID("pump-7").
		SetTLSConfig(&tls.Config{RootCAs: gw.RootCAs, Certificates: []tls.Certificate{cert}, ServerName: "localhost"}).
		SetProtocolVersion(4).SetAutoReconnect(false).SetConnectionLostHandler(func(_ paho.Client, err error) { lost <- err })
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(20*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(0)

	b := newHTTPBrowser(t, gw)
	token := b.signIn(t, gw)
	_, page := b.do(t, "GET", "/console/connections", nil, nil)
	if !strings.Contains(page, `data-client-id="pump-7"`) || !strings.Contains(page, certID) || !strings.Contains(page, "127.0.0.1:") {
		t.Fatalf("the connections page does not list pump-7 with its certificate and address:\n%s", page)
	}
	res, _ := b.do(t, "POST", "/console/connections/disconnect", url.Values{"client_id": {"pump-7"}, "csrf_token": {token}}, map[string]string{"Sec-Fetch-Site": "same-origin"})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("disconnect: %s", res.Status)
	}
	iottest.Receive(t, lost, "pump-7's connection to end")
	iottest.WaitFor(t, "pump-7 to leave the list", func() bool {
		_, page := b.do(t, "GET", "/console/connections", nil, nil)
		return !strings.Contains(page, `data-client-id="pump-7"`)
	})
}

func TestConsoleMQTTURL(t *testing.T) {
	gw := servertest.Start(t)
	b := newHTTPBrowser(t, gw)
	token := b.signIn(t, gw)
	if res, _ := b.do(t, "POST", "/console/api/mqtt-url", url.Values{}, map[string]string{"Sec-Fetch-Site": "same-origin"}); res.StatusCode != http.StatusForbidden {
		t.Errorf("without the CSRF token: %s, want 403", res.Status)
	}
	res, body := b.do(t, "POST", "/console/api/mqtt-url", url.Values{}, map[string]string{"Sec-Fetch-Site": "same-origin", "X-CSRF-Token": token})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("mqtt-url: %s %s", res.Status, body)
	}
	var got struct{ URL, ClientID string }
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(got.URL)
	if err != nil || u.Scheme != "ws" || u.Host != strings.TrimPrefix(gw.APIURL(), "http://") || u.Path != "/mqtt" ||
		!u.Query().Has("X-Amz-Signature") || !strings.Contains(u.Query().Get("X-Amz-Credential"), "/iotdevicegateway/aws4_request") ||
		!strings.HasPrefix(got.ClientID, "iotcore-console-") {
		t.Errorf("mqtt-url answered %+v", got)
	}
	if strings.Contains(body, gw.Credentials.SecretAccessKey) {
		t.Error("mqtt-url answered the secret")
	}
}

// A Host header cannot add directives to the console's CSP.
func TestConsoleCSPIgnoresOddHosts(t *testing.T) {
	gw := servertest.Start(t)
	req, err := http.NewRequest("GET", gw.APIURL()+"/console/signin", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "evil;script-src:1"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); strings.Contains(csp, "evil") {
		t.Errorf("CSP %q carries the Host header", csp)
	}
}

// A thing's page shows its shadows as get answers them.
func TestConsoleThingShowsShadows(t *testing.T) {
	gw := servertest.Start(t)
	ctx := context.Background()
	if _, err := gw.Registry.CreateThing(ctx, registry.CreateThingInput{Name: "lamp"}); err != nil {
		t.Fatal(err)
	}
	b := newHTTPBrowser(t, gw)
	b.signIn(t, gw)
	if _, page := b.do(t, "GET", "/console/things/lamp", nil, nil); !strings.Contains(page, "No shadow") {
		t.Errorf("a thing without shadows: the page does not say so")
	}
	doc := `{"state":{"desired":{"on":true},"reported":{"on":false}},"metadata":{"desired":{"on":{"timestamp":1700000000}},"reported":{"on":{"timestamp":1700000000}}},"version":4,"timestamp":1700000000}`
	for _, name := range []string{"", "config"} {
		if err := gw.Registry.ChangeShadow(ctx, "lamp", name, func(*registry.StoredShadow) (*registry.StoredShadow, bool, error) {
			return &registry.StoredShadow{Document: []byte(doc), Version: 4}, false, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	_, page := b.do(t, "GET", "/console/things/lamp", nil, nil)
	for _, want := range []string{"Classic shadow", "Named shadow", "config", "&#34;delta&#34;", "&#34;version&#34;: 4"} {
		if !strings.Contains(page, want) {
			t.Errorf("the thing's page lacks %q", want)
		}
	}
}

func TestConsoleSearchesTheFleetIndex(t *testing.T) {
	gw := servertest.Start(t)
	ctx := context.Background()
	for i := range 130 {
		site := "berlin"
		if i%2 == 1 {
			site = "lyon"
		}
		if _, err := gw.Registry.CreateThing(ctx, registry.CreateThingInput{Name: fmt.Sprintf("pump-%03d", i),
			Attributes: map[string]string{"site": site}}); err != nil {
			t.Fatal(err)
		}
	}
	b := newHTTPBrowser(t, gw)
	b.signIn(t, gw)

	res, page := b.do(t, "GET", "/console/things?q="+url.QueryEscape("thingName:pump-*"), nil, nil)
	if res.StatusCode != http.StatusConflict || !strings.Contains(page, `id="index-off"`) {
		t.Fatalf("a query with thing indexing off: %s, want 409 and how to turn it on:\n%s", res.Status, page)
	}
	if err := gw.Registry.UpdateIndexingConfiguration(ctx, registry.IndexingUpdate{Thing: &registry.IndexingConfiguration{
		ThingIndexingMode: "REGISTRY", ThingConnectivityIndexingMode: "STATUS"}}); err != nil {
		t.Fatal(err)
	}

	// The same engine as SearchIndex: its query language, and its results
	// paged 50 to a page.
	_, page = b.do(t, "GET", "/console/things?q="+url.QueryEscape("attributes.site:lyon"), nil, nil)
	rows := strings.Count(page, `<tr><td><a href="/console/things/pump-`)
	if rows != 50 || !strings.Contains(page, `href="/console/things/pump-001"`) || strings.Contains(page, `href="/console/things/pump-000"`) {
		t.Fatalf("the query's first page shows %d rows, want the first 50 odd pumps:\n%s", rows, page)
	}
	_, rest, ok := strings.Cut(page, `href="/console/things?next=`)
	if !ok {
		t.Fatalf("no next page link:\n%s", page)
	}
	next, _, _ := strings.Cut(rest, `"`)
	_, page = b.do(t, "GET", "/console/things?next="+strings.ReplaceAll(next, "&amp;", "&"), nil, nil)
	if n := strings.Count(page, `<tr><td><a href="/console/things/pump-`); n != 15 || !strings.Contains(page, `href="/console/things/pump-129"`) {
		t.Errorf("the second page shows %d rows, want the last 15 odd pumps:\n%s", n, page)
	}

	_, page = b.do(t, "GET", "/console/things?q="+url.QueryEscape("attributes.site:berlin AND thingName:pump-05*"), nil, nil)
	for _, want := range []string{"pump-050", "pump-052", "pump-058"} {
		if !strings.Contains(page, `href="/console/things/`+want+`"`) {
			t.Errorf("the query does not show %s:\n%s", want, page)
		}
	}
	if n := strings.Count(page, `<tr><td><a href="/console/things/pump-`); n != 5 {
		t.Errorf("the query shows %d rows, want 5", n)
	}

	res, page = b.do(t, "GET", "/console/things?q="+url.QueryEscape("thingName:pump-* AND"), nil, nil)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(page, `id="query-error"`) {
		t.Errorf("a broken query: %s, want 400 and the parser's message:\n%s", res.Status, page)
	}
}
