package mochi

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// TestMochiDefects pins the behaviours of mochi v2.7.9 that this package
// works around. When one fails, mochi has changed: revisit the workaround.
func TestMochiDefects(t *testing.T) {
	t.Run("issue 501 panics the SUBSCRIBE decoder", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("no panic")
			}
		}()
		pk := packets.Packet{ProtocolVersion: 5, FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}}
		_ = pk.SubscribeDecode(issue501Subscribe[2:])
	})
	t.Run("issue 501 ends a vanilla server's process", testVanillaServerDies)
	t.Run("no MQTT 3.1.1 CONNACK code for not authorized", func(t *testing.T) {
		if c, ok := packets.V5CodesToV3[packets.ErrNotAuthorized]; ok {
			t.Errorf("mochi maps 0x87 to %d now: connackCode3 may go", c.Code)
		}
	})
	t.Run("unlimited packet size by default", func(t *testing.T) {
		if n := mqtt.NewDefaultServerCapabilities().MaximumPacketSize; n != 0 {
			t.Errorf("default maximum packet size %d", n)
		}
	})
}

// testVanillaServerDies runs mochi as its examples do (its TCP listener, a
// hook that allows everything) in a child process, sends it issue501Subscribe, and checks the
// child dies of the panic.
func testVanillaServerDies(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestVanillaMochiServer$")
	cmd.Env = append(os.Environ(), "IOTCORE_VANILLA_MOCHI=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()
	lines := bufio.NewScanner(stdout)
	var addr string
	for lines.Scan() {
		if a, ok := strings.CutPrefix(lines.Text(), "listening on "); ok {
			addr = a
			break
		}
	}
	go func() {
		for lines.Scan() { // drain
		}
		exited <- cmd.Wait()
	}()
	if addr == "" {
		t.Fatalf("the child did not start: %s", stderr.String())
	}

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw := &rawClient{t: t, c: c, r: bufio.NewReader(c), v: 5}
	raw.mustConnect("attacker")
	raw.write(issue501Subscribe)

	select {
	case err := <-exited:
		exited <- err
		if err == nil || !strings.Contains(stderr.String(), "index out of range") {
			t.Errorf("child exit %v, stderr:\n%s", err, stderr.String())
		}
	case <-time.After(waitTimeout):
		t.Error("the vanilla server survived")
	}
}

// TestVanillaMochiServer is testVanillaServerDies's child process.
func TestVanillaMochiServer(t *testing.T) {
	if os.Getenv("IOTCORE_VANILLA_MOCHI") != "1" {
		t.Skip("child process of TestMochiDefects")
	}
	s := mqtt.New(&mqtt.Options{Logger: testLogger()})
	if err := s.AddHook(new(allowHook), nil); err != nil {
		t.Fatal(err)
	}
	ln := listeners.NewTCP(listeners.Config{ID: "tcp", Address: "127.0.0.1:0"})
	if err := s.AddListener(ln); err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("listening on %s\n", ln.Address())
	select {} // until the panic, or killed
}

// allowHook is mochi's auth.AllowHook (whose package needs a module we do
// not require).
type allowHook struct{ mqtt.HookBase }

func (h *allowHook) Provides(b byte) bool {
	return b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}

func (h *allowHook) OnConnectAuthenticate(*mqtt.Client, packets.Packet) bool { return true }

func (h *allowHook) OnACLCheck(*mqtt.Client, string, bool) bool { return true }
