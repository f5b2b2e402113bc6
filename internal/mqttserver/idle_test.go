package mqttserver

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/mqttserver/packet"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// The idle-connection measurement runs the server in a child process (this
// test binary again, with MQTTSERVER_IDLE set), so that the clients' own
// memory stays out of its RSS.

func TestMain(m *testing.M) {
	if mode := os.Getenv("MQTTSERVER_IDLE"); mode != "" {
		runIdleServer(mode)
		return
	}
	os.Exit(m.Run())
}

// idleStats are the child's memory figures.
type idleStats struct {
	RSS, HeapInuse, HeapIdleKept, StackInuse int64
	Goroutines                               int
}

func readIdleStats() idleStats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := idleStats{HeapInuse: int64(ms.HeapInuse), HeapIdleKept: int64(ms.HeapIdle - ms.HeapReleased), StackInuse: int64(ms.StackInuse), Goroutines: runtime.NumGoroutine()}
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			st.RSS = kb * 1024
		}
	}
	return st
}

// runIdleServer serves mutual TLS on loopback the way the adapter does
// (handshake on one goroutine, the connection on a fresh one), with the
// engine (mode "engine") or with the bare Go floor ("floor": the CONNECT
// read and answered, then one goroutine parked in a TLS read). It prints
// its address, then answers "stats" and "gc" on stdin with a JSON line.
func runIdleServer(mode string) {
	cert, err := tls.LoadX509KeyPair(os.Getenv("MQTTSERVER_IDLE_CERT"), os.Getenv("MQTTSERVER_IDLE_KEY"))
	if err != nil {
		panic(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS12}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	s := New(Options{}, newTestHooks())
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				under := nc
				if mode == "engine" {
					under = NewRecordConn(nc) // as the adapter serves the engine
				}
				tc := tls.Server(under, cfg)
				if err := tc.Handshake(); err != nil {
					_ = nc.Close()
					return
				}
				if mode == "floor" {
					go serveFloor(tc)
					return
				}
				go s.ServeConn(tc, nil)
			}()
		}
	}()
	fmt.Println("ADDR", ln.Addr().String())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "gc" {
			runtime.GC()
		}
		b, _ := json.Marshal(readIdleStats())
		fmt.Println(string(b))
	}
}

// serveFloor is the least a Go server can do for an MQTT connection:
// answer its CONNECT and PINGREQs, reading a byte at a time.
func serveFloor(c net.Conn) {
	var hdr [5]byte
	for {
		if _, err := io.ReadFull(c, hdr[:1]); err != nil {
			return
		}
		n := 1
		var h packet.Header
		for {
			if _, err := io.ReadFull(c, hdr[n:n+1]); err != nil {
				return
			}
			n++
			var m int
			h, m, _ = packet.ParseHeader(hdr[:n], 0)
			if m > 0 || n == 5 {
				break
			}
		}
		if h.Length > 0 {
			if _, err := io.CopyN(io.Discard, c, int64(h.Length)); err != nil {
				return
			}
		}
		switch h.Type {
		case packet.CONNECT:
			_, _ = c.Write([]byte{0x20, 2, 0, 0})
		case packet.PINGREQ:
			_, _ = c.Write([]byte{0xD0, 0})
		}
	}
}

// BenchmarkIdleConnections measures the server's memory per idle mutual
// TLS connection, established and after two keep-alive pings each, for
// the engine and the bare Go floor. MQTTSERVER_IDLE_CONNS sets how many
// (default 2,000). Run it alone: go test -run '^$' -bench Idle -benchtime 1x.
func BenchmarkIdleConnections(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("MQTTSERVER_IDLE_CONNS")); err == nil && v > 0 {
		n = v
	}
	dir := b.TempDir()
	ca := pkitest.NewRoot(b, "idle CA")
	srvKey := pkitest.NewKey(b, pki.KeyECP256)
	now := time.Now()
	srvCert, err := ca.IssueServer(srvKey.Public(), []string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	certPath, keyPath := pkitest.WriteFiles(b, dir, "server", srvKey, srvCert)
	leaf, leafKey := pkitest.NewClient(b, ca, pkix.Name{CommonName: "device"})
	client := tls.Certificate{Certificate: [][]byte{leaf.Raw, ca.Certificate.Raw}, PrivateKey: leafKey, Leaf: leaf}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate)
	clientCfg := &tls.Config{Certificates: []tls.Certificate{client}, RootCAs: roots, ServerName: "127.0.0.1"}

	for _, mode := range []string{"engine", "floor"} {
		b.Run(mode, func(b *testing.B) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "MQTTSERVER_IDLE="+mode, "MQTTSERVER_IDLE_CERT="+certPath, "MQTTSERVER_IDLE_KEY="+keyPath, "GODEBUG=adaptivestackstart=0")
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
			out := bufio.NewScanner(stdout)
			out.Scan()
			addr, ok := strings.CutPrefix(out.Text(), "ADDR ")
			if !ok {
				b.Fatalf("child said %q", out.Text())
			}
			stats := func(cmd string) idleStats {
				fmt.Fprintln(stdin, cmd)
				out.Scan()
				var st idleStats
				if err := json.Unmarshal(out.Bytes(), &st); err != nil {
					b.Fatal(err)
				}
				return st
			}
			before := stats("gc")
			conns := make([]*tls.Conn, n)
			var wg sync.WaitGroup
			var errOnce sync.Once
			var firstErr error
			next := make(chan int)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range next {
						c, err := idleConnect(addr, clientCfg, i)
						if err != nil {
							errOnce.Do(func() { firstErr = err })
							continue
						}
						conns[i] = c
					}
				}()
			}
			for i := range n {
				next <- i
			}
			close(next)
			wg.Wait()
			defer func() {
				for _, c := range conns {
					if c != nil {
						_ = c.Close()
					}
				}
			}()
			if firstErr != nil {
				b.Fatal(firstErr)
			}
			established := stats("stats")
			for range 2 {
				for _, c := range conns {
					if _, err := c.Write(packet.AppendPingreq(nil)); err != nil {
						b.Fatal(err)
					}
				}
				var resp [2]byte
				for _, c := range conns {
					if _, err := io.ReadFull(c, resp[:]); err != nil || resp[0] != 0xD0 {
						b.Fatalf("PINGRESP % x, %v", resp, err)
					}
				}
			}
			pinged := stats("stats")
			collected := stats("gc")
			per := func(v int64) float64 { return float64(v) / float64(n) / 1024 }
			b.ReportMetric(per(established.RSS-before.RSS), "KiB-RSS/conn")
			b.ReportMetric(per(pinged.RSS-before.RSS), "KiB-RSS-pinged/conn")
			b.ReportMetric(per(collected.RSS-before.RSS), "KiB-RSS-gc/conn")
			b.ReportMetric(per(collected.StackInuse-before.StackInuse), "KiB-stack/conn")
			b.ReportMetric(per(collected.HeapInuse-before.HeapInuse), "KiB-heap/conn")
			b.ReportMetric(float64(collected.Goroutines-before.Goroutines)/float64(n), "goroutines/conn")
		})
	}
}

// idleConnect opens one mutual TLS connection and has its CONNECT
// accepted.
func idleConnect(addr string, cfg *tls.Config, i int) (*tls.Conn, error) {
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	connect := packet.Connect{Version: packet.Version311, Clean: true, KeepAlive: 60, ClientID: fmt.Sprintf("idle-%d", i)}
	if _, err := c.Write(connect.Append(nil)); err != nil {
		return nil, err
	}
	var ack [4]byte
	if _, err := io.ReadFull(c, ack[:]); err != nil || ack[0] != 0x20 || ack[3] != 0 {
		return nil, fmt.Errorf("CONNACK % x: %v", ack, err)
	}
	return c, nil
}
