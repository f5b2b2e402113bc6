package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/iotcore/iotcore/internal/cluster/natstest"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
	"github.com/iotcore/iotcore/internal/postgres"
	"github.com/iotcore/iotcore/internal/postgres/pgtest"
	"github.com/iotcore/iotcore/internal/server"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// clusterKeyFiles are what the nodes of a cluster share from one data
// directory: the admin credentials, the root CA devices trust, the server
// certificate and the service CA (docs/cluster.md).
var clusterKeyFiles = []string{server.CredentialsFile, server.RootCAFile, server.RootCAKeyFile,
	server.ServerCertFile, server.ServerKeyFile, server.ServiceCAFile, server.ServiceCAKey}

// copyClusterKeys makes a data directory for another node of from's cluster.
func copyClusterKeys(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	for _, name := range clusterKeyFiles {
		data, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

// TestClusterNodeKilledDuringJITP runs two `iotcore serve` processes on one
// PostgreSQL database and one nats-server, provisions devices just in time
// through node A, kills A with SIGKILL in the middle, and checks that the
// registry holds every device whole or not at all (as AWS would leave it),
// and that every device then provisions and connects through node B, which
// devices trust with the same ca.pem.
func TestClusterNodeKilledDuringJITP(t *testing.T) {
	bin := buildBinary(t)
	nats := natstest.Start(t)
	url := pgtest.Database(t)
	args := []string{"--account-id", crashAccount, "--region", crashRegion, "--database-url", url, "--cluster-url", nats.URL()}
	dirA := t.TempDir()
	a := startServe(t, bin, dirA, args...)
	b := startServe(t, bin, copyClusterKeys(t, dirA), args...)

	ca := pkitest.NewRoot(t, "Cluster Factory CA")
	caID := registerJITPCA(t, a.client(t), ca, seed000Template(t, crashAccount))
	const n = 120
	devices := makeDevices(t, ca, n)
	var next atomic.Int64
	var storm sync.WaitGroup
	stormCtx, stopStorm := context.WithCancel(context.Background())
	for range stormWorkers {
		storm.Go(func() {
			for stormCtx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				d := devices[i]
				d.stormAck, d.stormErr = mqttConnect(a.mqttAddr, a.tlsConfig(d.cert), d.name, 4)
			}
		})
	}
	waitUntil(t, "a quarter of the devices provisioned on node A", func() bool {
		return a.metric(t, `iotcore_provisioning_attempts_total`, `outcome="PROVISIONED"`) >= n/4
	})
	retried := a.metric(t, "iotcore_database_retries_total", "")
	a.kill(t)
	stopStorm()
	storm.Wait()

	db, err := postgres.Open(context.Background(), url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	counts := checkDevicesIn(t, db, caID, devices, false)
	t.Logf("node A killed: %d devices fully provisioned, %d PENDING_ACTIVATION, %d without any record; %v updates had been retried after a conflict",
		counts[stateProvisioned], counts[statePending], counts[stateAbsent], retried)
	if counts[stateProvisioned] < n/4 || counts[stateProvisioned] == n {
		t.Fatalf("%d of %d devices provisioned when node A was killed, want at least %d and not all", counts[stateProvisioned], n, n/4)
	}

	// Every device connects to the survivor: the provisioned ones are
	// admitted, the others are provisioned (and dropped, as on AWS) and
	// admitted on their next connection.
	var failures atomic.Int64
	work := make(chan *stormDevice)
	var again sync.WaitGroup
	for range stormWorkers {
		again.Go(func() {
			for d := range work {
				if d.afterCrash != stateProvisioned {
					if _, err := mqttConnect(b.mqttAddr, b.tlsConfig(d.cert), d.name, 4); !errors.Is(err, errDropped) {
						failures.Add(1)
						t.Errorf("device %s (%s) provisioning on node B: %v", d.name, d.afterCrash, err)
						continue
					}
				}
				if ack, err := mqttConnect(b.mqttAddr, b.tlsConfig(d.cert), d.name, 4); err != nil || ack != 0 {
					if failures.Add(1) <= 10 {
						t.Errorf("device %s (%s) connecting to node B: CONNACK %d, %v", d.name, d.afterCrash, ack, err)
					}
				}
			}
		})
	}
	for _, d := range devices {
		work <- d
	}
	close(work)
	again.Wait()
	if final := checkDevicesIn(t, db, caID, devices, true); final[stateProvisioned] != n {
		t.Errorf("in the end %d of %d devices are fully provisioned", final[stateProvisioned], n)
	}
}
