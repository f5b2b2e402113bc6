package mochi

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/broker"
	"github.com/iotcore/iotcore/internal/iottest"
)

// mosquittoProgram returns the path of a mosquitto client program. When it
// is not installed the test is skipped, or fails if CI is true.
func mosquittoProgram(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		iottest.Missing(t, "%s not installed (apt-get install mosquitto-clients): %v", name, err)
	}
	return path
}

// mosquittoArgs are the connection arguments for device cn.
func (e *env) mosquittoArgs(cn, id string, version int, extra ...string) []string {
	ca, cert, key := e.files(cn)
	_, port, _ := net.SplitHostPort(e.b.Addr().String())
	args := []string{
		"-h", "localhost", "-p", port, "-i", id, "-V", fmt.Sprintf("mqttv%d", version),
		"--cafile", ca, "--cert", cert, "--key", key,
	}
	return append(args, extra...)
}

func TestMosquitto(t *testing.T) {
	pub := mosquittoProgram(t, "mosquitto_pub")
	sub := mosquittoProgram(t, "mosquitto_sub")
	for _, v := range []int{311, 5} {
		t.Run(fmt.Sprintf("mqttv%d", v), func(t *testing.T) {
			e := newEnv(t)
			e.gate.allow("sub", broker.Subscribe, "sensors/#")
			e.gate.allow("sub", broker.Receive, "sensors/#")
			e.gate.allow("pub", broker.Publish, "sensors/#")
			e.gate.refuse("refused", &broker.RefusedError{How: broker.NotAuthorized})

			// mosquitto_sub, until it has one message.
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			s := exec.CommandContext(ctx, sub, e.mosquittoArgs("device", "sub", v, "-t", "sensors/#", "-q", "1", "-C", "1", "-v")...)
			var stdout, stderr bytes.Buffer
			s.Stdout, s.Stderr = &stdout, &stderr
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "mosquitto_sub subscribed", func() bool { return e.b.Stats().Subscriptions == 1 })

			// Through the ALPN AWS devices use on port 443.
			p := exec.CommandContext(ctx, pub, e.mosquittoArgs("device", "pub", v, "--tls-alpn", "x-amzn-mqtt-ca", "-t", "sensors/1", "-q", "1", "-m", "21.5")...)
			if b, err := p.CombinedOutput(); err != nil {
				t.Fatalf("mosquitto_pub: %v\n%s", err, b)
			}
			if err := s.Wait(); err != nil {
				t.Fatalf("mosquitto_sub: %v\n%s", err, stderr.String())
			}
			if received := strings.TrimSpace(stdout.String()); received != "sensors/1 21.5" {
				t.Errorf("mosquitto_sub printed %q, want %q", received, "sensors/1 21.5")
			}

			// Refused: CONNACK not authorized, which mosquitto names.
			r := exec.CommandContext(ctx, pub, e.mosquittoArgs("refused", "pub2", v, "-t", "sensors/1", "-m", "x")...)
			b, err := r.CombinedOutput()
			if err == nil || !strings.Contains(strings.ToLower(string(b)), "not authori") {
				t.Errorf("refused mosquitto_pub: %v\n%s", err, b)
			}

			// A denied subscription: SUBACK failure, which mosquitto_sub reports.
			d := exec.CommandContext(ctx, sub, e.mosquittoArgs("device", "sub2", v, "-t", "closed/#")...)
			b, err = d.CombinedOutput() // exits 0
			if !strings.Contains(string(b), "All subscription requests were denied") {
				t.Errorf("denied mosquitto_sub: %v\n%s", err, b)
			}
		})
	}
}
