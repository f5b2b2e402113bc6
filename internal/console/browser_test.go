package console_test

import (
	"context"
	"crypto/x509/pkix"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/iotcore/iotcore/internal/iottest"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/servertest"
)

// jitpTemplate provisions a device named by its certificate's CN, with a
// policy that lets it use topics under devices/<its name>/.
const jitpTemplate = `{"Parameters":{"AWS::IoT::Certificate::CommonName":{"Type":"String"},"AWS::IoT::Certificate::Id":{"Type":"String"}},
"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"AWS::IoT::Certificate::CommonName"},"AttributePayload":{"model":"console-demo"}}},
"certificate":{"Type":"AWS::IoT::Certificate","Properties":{"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"},"Status":"ACTIVE"}},
"policy":{"Type":"AWS::IoT::Policy","Properties":{"PolicyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"iot:Connect\"],\"Resource\":[\"arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}\"]},{\"Effect\":\"Allow\",\"Action\":[\"iot:Publish\"],\"Resource\":[\"arn:aws:iot:us-east-1:123456789012:topic/devices/${iot:Connection.Thing.ThingName}/*\"]}]}"}}}}`

// device is a device certificate and key on disk, as mosquitto_pub takes them.
type device struct{ cert, key string }

func newDevice(t *testing.T, ca *pki.Authority, subject pkix.Name) device {
	t.Helper()
	cert, key := pkitest.NewClient(t, ca, subject)
	certPath, keyPath := pkitest.WriteFiles(t, t.TempDir(), "device", key, cert, ca.Certificate)
	return device{certPath, keyPath}
}

// publish runs mosquitto_pub as the device; it reports whether it succeeded.
func (d device) publish(t *testing.T, gw *servertest.Gateway, caFile, clientID, topic, message string) error {
	t.Helper()
	_, port, _ := strings.Cut(gw.MQTTAddr().String(), ":")
	out, err := exec.Command("mosquitto_pub", "--cafile", caFile, "-h", "localhost", "-p", port, "--cert", d.cert, "--key", d.key,
		"-i", clientID, "-q", "1", "-t", topic, "-m", message).CombinedOutput()
	if err != nil {
		t.Logf("mosquitto_pub as %s: %v: %s", clientID, err, out)
	}
	return err
}

// TestConsoleInBrowser drives the console in headless Chromium as an
// operator would: sign in, find the device JITP provisioned, read why
// another device was not provisioned, subscribe in the MQTT test client and
// see a device's message, published with mosquitto_pub, arrive. It keeps
// screenshots of each page in IOTCORE_CONSOLE_SCREENSHOTS (docs/console
// holds the README's), else in a temporary directory.
func TestConsoleInBrowser(t *testing.T) {
	chromium := findChromium(t)
	if _, err := exec.LookPath("mosquitto_pub"); err != nil {
		iottest.Missing(t, "no mosquitto_pub (apt-get install mosquitto-clients)")
	}
	gw := servertest.Start(t)
	ctx := context.Background()

	// A CA that provisions its devices just in time.
	ca, caID := gw.RegisterJITPCA(t, "Console Demo CA", jitpTemplate)
	caFile := filepath.Join(gw.Config.DataDir, "ca.pem")

	// One device is provisioned on its first connection (which is dropped,
	// as on AWS); another, without a CN, is not, and its attempt says why.
	good := newDevice(t, ca, pkix.Name{CommonName: "greenhouse-sensor-7", Country: []string{"ES"}})
	_ = good.publish(t, gw, caFile, "greenhouse-sensor-7", "devices/greenhouse-sensor-7/hello", "first")
	bad := newDevice(t, ca, pkix.Name{Country: []string{"ES"}, Organization: []string{"no common name"}})
	_ = bad.publish(t, gw, caFile, "nameless", "devices/nameless/hello", "first")
	var failure registry.ProvisioningAttempt
	iottest.WaitFor(t, "both provisioning attempts", func() bool {
		attempts, _, err := gw.Registry.ListProvisioningAttempts(ctx, registry.ProvisioningAttemptFilter{CAID: caID}, registry.PageRequest{})
		if err != nil || len(attempts) < 2 {
			return false
		}
		for _, a := range attempts {
			if a.Outcome == registry.AttemptFailed {
				failure = a
			}
		}
		return failure.Reason != ""
	})

	shots := os.Getenv("IOTCORE_CONSOLE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	browser := newBrowser(t, chromium)
	base := gw.APIURL() + "/console/"
	secret := gw.Credentials.SecretAccessKey
	var html string

	// Nothing is reachable without signing in.
	run(t, browser, "open the console signed out",
		chromedp.Navigate(base+"things"),
		chromedp.WaitVisible(chromedp.CSS("#signin-form")),
	)
	run(t, browser, "sign in with the admin access key",
		chromedp.SendKeys(chromedp.CSS("#access-key-id"), gw.Credentials.AccessKeyID),
		chromedp.SendKeys(chromedp.CSS("#secret-access-key"), secret),
		screenshot(shots, "signin.png"),
		chromedp.Submit(chromedp.CSS("#signin-form")),
		chromedp.WaitVisible(chromedp.CSS("#things")), // back to the page asked for
	)

	run(t, browser, "search the things and open the provisioned one",
		chromedp.SetValue(chromedp.CSS("#thing-prefix"), "greenhouse"),
		chromedp.Submit(chromedp.CSS("#thing-search")),
		chromedp.WaitVisible(chromedp.CSS(`#things a[href="/console/things/greenhouse-sensor-7"]`)),
		screenshot(shots, "things.png"),
		chromedp.Click(chromedp.CSS(`#things a[href="/console/things/greenhouse-sensor-7"]`)),
		chromedp.WaitVisible(chromedp.CSS("#thing-principals")),
		into(&html, chromedp.OuterHTML(chromedp.CSS("main"))),
	)
	for _, want := range []string{"greenhouse-sensor-7", "console-demo", "ACTIVE", "PROVISIONED"} {
		if !strings.Contains(html, want) {
			t.Errorf("the thing's page does not show %q:\n%s", want, html)
		}
	}
	screenshotNow(t, browser, shots, "thing.png")

	run(t, browser, "read why the other device was not provisioned",
		chromedp.Navigate(base+"attempts"),
		chromedp.WaitVisible(chromedp.CSS("#attempts .outcome-failed .reason")),
		into(&html, chromedp.Text(chromedp.CSS("#attempts .outcome-failed .reason"))),
		screenshot(shots, "attempts.png"),
	)
	if strings.TrimSpace(html) != failure.Reason {
		t.Errorf("the attempts page gives the reason %q, want %q", html, failure.Reason)
	}

	run(t, browser, "subscribe in the MQTT test client",
		chromedp.Navigate(base+"mqtt"),
		chromedp.WaitVisible(chromedp.CSS(`#mqtt-status[data-state="connected"]`)),
		chromedp.SetValue(chromedp.CSS("#subscribe-filter"), "devices/#"),
		chromedp.Click(chromedp.CSS("#subscribe-form button[type=submit]")), // a submit event, which Submit does not fire
		chromedp.WaitVisible(chromedp.CSS(`#subscriptions li.subscription[data-filter="devices/#"]`)),
	)
	// The device connects again, now provisioned, and publishes.
	if err := good.publish(t, gw, caFile, "greenhouse-sensor-7", "devices/greenhouse-sensor-7/telemetry", `{"temperature":21.5,"humidity":48}`); err != nil {
		t.Fatalf("the provisioned device could not publish: %v", err)
	}
	var topic, payload string
	run(t, browser, "see the device's message arrive",
		chromedp.WaitVisible(chromedp.CSS("#messages .message")),
		into(&topic, chromedp.Text(chromedp.CSS("#messages .message .message-topic"))),
		into(&payload, chromedp.Text(chromedp.CSS("#messages .message .message-payload"))),
	)
	if topic != "devices/greenhouse-sensor-7/telemetry" || !strings.Contains(payload, "\"temperature\": 21.5") {
		t.Errorf("the MQTT test client shows %q %q, want the device's telemetry pretty-printed", topic, payload)
	}
	// The browser publishes too, and hears itself.
	run(t, browser, "publish from the browser",
		chromedp.SetValue(chromedp.CSS("#publish-topic"), "devices/greenhouse-sensor-7/config"),
		chromedp.SetValue(chromedp.CSS("#publish-payload"), `{"interval": 30}`),
		chromedp.Click(chromedp.CSS("#publish-form button[type=submit]")),
		chromedp.Poll[chromedp.Void](`document.querySelector("#messages .message .message-topic").textContent === "devices/greenhouse-sensor-7/config"`),
		screenshot(shots, "mqtt.png"),
	)

	run(t, browser, "see the connections and the rest of the registry",
		chromedp.Navigate(base),
		chromedp.WaitVisible(chromedp.CSS("#connected-count")),
		screenshot(shots, "overview.png"),
		chromedp.Navigate(base+"certificates"),
		chromedp.WaitVisible(chromedp.CSS("#certificates")),
		chromedp.Navigate(base+"cas/"+caID),
		chromedp.WaitVisible(chromedp.CSS(".facts")),
		screenshot(shots, "ca.png"),
		into(&html, chromedp.OuterHTML(chromedp.CSS("html"))),
	)
	if strings.Contains(html, secret) {
		t.Error("a console page shows the secret access key")
	}
}

// findChromium finds Debian's chromium (or Chrome).
func findChromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	iottest.Missing(t, "no chromium on PATH (apt-get install chromium)")
	return ""
}

// newBrowser starts headless Chromium for the test.
func newBrowser(t *testing.T, path string) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 860),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// run runs actions in the browser, failing the test after two minutes.
func run(t *testing.T, browser context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(browser, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		url, _ := chromedp.Run(browser, chromedp.Location())
		t.Fatalf("%s (at %s): %v", what, url, err)
	}
}

// into runs a, keeping its value in dst.
func into[T any](dst *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		v, err := a(ctx, tg)
		*dst = v
		return chromedp.Void{}, err
	}
}

// screenshot saves the whole page as dir/name, a PNG.
func screenshot(dir, name string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		png, err := chromedp.FullScreenshot(100)(ctx, tg)
		if err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.Void{}, os.WriteFile(filepath.Join(dir, name), png, 0o644)
	}
}

func screenshotNow(t *testing.T, browser context.Context, dir, name string) {
	t.Helper()
	run(t, browser, "screenshot "+name, screenshot(dir, name))
}
