package broker

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/iottest"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pki/pkitest"
	"github.com/iotcore/iotcore/internal/registry"
)

var testAccount = iot.Account{ID: "123456789012", Region: "us-east-1"}

// fakeRegistry is the registry as the gate sees it, held in memory.
type fakeRegistry struct {
	mu    sync.Mutex
	pcs   map[string]*registry.PrincipalContext // by certificate id
	cas   []registry.CACertificate
	err   error         // every call fails with it when set
	block chan struct{} // PrincipalContext waits for it when set
	delay time.Duration // PrincipalContext takes this long (a store's reads)
	loads atomic.Int64  // PrincipalContext calls
}

func (r *fakeRegistry) PrincipalContext(ctx context.Context, certID string) (*registry.PrincipalContext, error) {
	r.loads.Add(1)
	r.mu.Lock()
	block, err, pc := r.block, r.err, r.pcs[certID]
	r.mu.Unlock()
	for start := time.Now(); time.Since(start) < r.delay; { // busy, as a store's reads are
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	switch {
	case err != nil:
		return nil, err
	case pc == nil:
		return nil, iot.NotFound("certificate", certID)
	}
	return pc, nil
}

func (r *fakeRegistry) CAsForCertificate(context.Context, *x509.Certificate) ([]registry.CACertificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cas, r.err
}

func (r *fakeRegistry) CACertificateTags(context.Context, string) ([]iot.Tag, error) {
	return nil, nil
}

func (r *fakeRegistry) set(certID string, pc *registry.PrincipalContext) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pcs == nil {
		r.pcs = map[string]*registry.PrincipalContext{}
	}
	r.pcs[certID] = pc
}

const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`

// device is a client certificate and the context a registry would give it.
type device struct {
	cert *x509.Certificate
	id   string
}

func newTestCA(t testing.TB) *pki.Authority { return pkitest.NewRoot(t, "device CA") }

func newDevice(t testing.TB, ca *pki.Authority, cn string) device {
	t.Helper()
	cert, _ := pkitest.NewClient(t, ca, pkix.Name{CommonName: cn})
	return device{cert: cert, id: pki.CertificateID(cert.Raw)}
}

func activeContext(d device, groups []string, policies ...string) *registry.PrincipalContext {
	pc := &registry.PrincipalContext{
		Certificate: registry.Certificate{ID: d.id, Status: iot.StatusActive},
		Groups:      groups,
	}
	for _, p := range policies {
		pc.Policies = append(pc.Policies, registry.NamedPolicy{Name: p, Document: allowAll})
	}
	return pc
}

func connect(g *Gatekeeper, d device, clientID string, kicked *atomic.Int64) (Session, error) {
	return g.Connect(context.Background(), ConnectRequest{Chain: []*x509.Certificate{d.cert}, ClientID: clientID, ProtocolVersion: 4},
		func(string) {
			if kicked != nil {
				kicked.Add(1)
			}
		})
}

// A registry that cannot answer is not a refusal: the adapter must tell
// the device the server is unavailable (so it retries) and the operator
// that something is wrong, which it does only for errors that are not a
// *RefusedError.
func TestConnectRegistryFailureIsNotARefusal(t *testing.T) {
	ca := pkitest.NewRoot(t, "ca")
	d := newDevice(t, ca, "sensor")
	outage := errors.New("sqlite: database is closed")
	for _, tc := range []struct {
		name string
		pc   *registry.PrincipalContext // nil: the certificate is unknown
	}{
		{"known certificate", activeContext(d, nil, "p")},
		{"unknown certificate (CA lookup)", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := &fakeRegistry{err: outage}
			reg.set(d.id, tc.pc)
			g := &Gatekeeper{Registry: reg, Account: testAccount}
			_, err := connect(g, d, "sensor", nil)
			var refused *RefusedError
			if err == nil || errors.As(err, &refused) {
				t.Fatalf("Connect with the registry down: %v, want an error that is not a refusal", err)
			}
			if !errors.Is(err, outage) {
				t.Errorf("Connect: %v, want it to wrap the registry's error", err)
			}
		})
	}
}

func TestConnectDecisions(t *testing.T) {
	ca := pkitest.NewRoot(t, "ca")
	d := newDevice(t, ca, "sensor")
	denyConnect := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:123456789012:client/other"}]}`
	for _, tc := range []struct {
		name string
		pc   *registry.PrincipalContext
		want Refusal // 0: admitted
	}{
		{"active, allowed", activeContext(d, nil, "p"), 0},
		{"inactive", &registry.PrincipalContext{Certificate: registry.Certificate{ID: d.id, Status: iot.StatusInactive}}, Drop},
		{"revoked", &registry.PrincipalContext{Certificate: registry.Certificate{ID: d.id, Status: iot.StatusRevoked}}, Drop},
		{"no policy", activeContext(d, nil), NotAuthorized},
		{"policy for another client id", &registry.PrincipalContext{
			Certificate: registry.Certificate{ID: d.id, Status: iot.StatusActive},
			Policies:    []registry.NamedPolicy{{Name: "p", Document: denyConnect}},
		}, NotAuthorized},
		{"unknown, no registered CA", nil, Drop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := &fakeRegistry{}
			reg.set(d.id, tc.pc)
			g := &Gatekeeper{Registry: reg, Account: testAccount}
			s, err := connect(g, d, "sensor", nil)
			var refused *RefusedError
			switch {
			case tc.want == 0 && err != nil:
				t.Fatalf("Connect: %v, want admitted", err)
			case tc.want == 0:
				s.Close(DisconnectInfo{ClientInitiated: true})
			case !errors.As(err, &refused) || refused.How != tc.want:
				t.Fatalf("Connect: %v, want refusal %d", err, tc.want)
			}
		})
	}
}

// connectAll admits one session per device, and returns the gate with its
// worker running.
func runningGate(t testing.TB, reg *fakeRegistry, wait time.Duration) *Gatekeeper {
	t.Helper()
	g := &Gatekeeper{Registry: reg, Account: testAccount, ApplyWait: wait}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("the gate's worker did not stop")
		}
	})
	return g
}

// A change to a thing group's policies concerns the devices whose things
// are in that group or below it, and no other: before, every live session
// was reloaded for any thing-group attachment.
func TestGroupChangeReloadsOnlyItsMembers(t *testing.T) {
	ca := pkitest.NewRoot(t, "ca")
	reg := &fakeRegistry{}
	g := runningGate(t, reg, time.Minute)
	// a: in "floor1", child of "building"; b: in "floor2"; c: in no group.
	a, b, c := newDevice(t, ca, "a"), newDevice(t, ca, "b"), newDevice(t, ca, "c")
	reg.set(a.id, activeContext(a, []string{"building", "floor1"}, "p"))
	reg.set(b.id, activeContext(b, []string{"floor2"}, "p"))
	reg.set(c.id, activeContext(c, nil, "p"))
	for _, d := range []device{a, b, c} {
		if _, err := connect(g, d, d.cert.Subject.CommonName, nil); err != nil {
			t.Fatal(err)
		}
	}
	loads := func() int64 { return reg.loads.Load() }
	for _, tc := range []struct {
		event registry.Event
		want  int64 // sessions reloaded
	}{
		{registry.Event{Kind: registry.AttachmentsChanged, ID: testAccount.ThingGroupARN("building")}, 1},
		{registry.Event{Kind: registry.AttachmentsChanged, ID: testAccount.ThingGroupARN("floor2")}, 1},
		{registry.Event{Kind: registry.AttachmentsChanged, ID: testAccount.ThingGroupARN("basement")}, 0},
		{registry.Event{Kind: registry.AttachmentsChanged, ID: testAccount.CertificateARN(c.id)}, 1},
		{registry.Event{Kind: registry.PolicyChanged, ID: "p"}, 3},
		{registry.Event{Kind: registry.CertificateChanged, ID: b.id}, 1},
	} {
		before := loads()
		g.OnRegistryChange([]registry.Event{tc.event}) // waits: ApplyWait is long
		if got := loads() - before; got != tc.want {
			t.Errorf("%v: %d sessions reloaded, want %d", tc.event, got, tc.want)
		}
	}
}

// The API call that made a change returns once the live sessions have seen
// it, or after ApplyWait when they are many (or slow): it is not held while
// they are re-evaluated, and they still are.
func TestRegistryChangeDoesNotHoldCaller(t *testing.T) {
	ca := pkitest.NewRoot(t, "ca")
	reg := &fakeRegistry{}
	g := runningGate(t, reg, 50*time.Millisecond)
	d := newDevice(t, ca, "sensor")
	reg.set(d.id, activeContext(d, nil, "p"))
	var kicked atomic.Int64
	if _, err := connect(g, d, "sensor", &kicked); err != nil {
		t.Fatal(err)
	}

	// Revoked while the registry is slow to answer the reload.
	block := make(chan struct{})
	reg.mu.Lock()
	reg.block = block
	reg.pcs[d.id] = &registry.PrincipalContext{Certificate: registry.Certificate{ID: d.id, Status: iot.StatusRevoked}}
	reg.mu.Unlock()
	returned := make(chan struct{})
	go func() {
		g.OnRegistryChange([]registry.Event{{Kind: registry.CertificateChanged, ID: d.id}})
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(30 * time.Second):
		t.Fatal("OnRegistryChange held its caller while the sessions were reloaded")
	}
	if kicked.Load() != 0 {
		t.Fatal("kicked before the registry answered")
	}
	close(block) // the reload goes on in the background
	iottest.WaitFor(t, "the revoked session to be disconnected", func() bool { return kicked.Load() > 0 })
}

// A change committed while a device connects, after its context was read
// and before its session joined the live ones, still reaches it.
func TestChangeDuringConnectIsSeen(t *testing.T) {
	ca := pkitest.NewRoot(t, "ca")
	d := newDevice(t, ca, "sensor")
	reg := &racingRegistry{fakeRegistry: fakeRegistry{}}
	reg.set(d.id, activeContext(d, nil, "p"))
	g := &Gatekeeper{Registry: reg, Account: testAccount, ApplyWait: -1}
	reg.onLoad = func() {
		// The policy is detached and the change announced right after the
		// first read: the gate must read again.
		reg.set(d.id, activeContext(d, nil))
		g.OnRegistryChange([]registry.Event{{Kind: registry.AttachmentsChanged, ID: testAccount.CertificateARN(d.id)}})
	}
	_, err := connect(g, d, "sensor", nil)
	var refused *RefusedError
	if !errors.As(err, &refused) || refused.How != NotAuthorized {
		t.Fatalf("Connect: %v, want NotAuthorized: the change during connect was missed", err)
	}
}

// Changes committed while a device connects that concern other devices (a
// JITP storm's: every device provisioned is one) do not make it read its
// context again; more of them than the gate remembers do.
func TestChangeDuringConnectAboutOthersIsNotReadAgain(t *testing.T) {
	ca := pkitest.NewRoot(t, "ca")
	d := newDevice(t, ca, "sensor")
	for _, tc := range []struct {
		name      string
		others    int
		wantLoads int64
	}{
		{"a few", 3, 1},
		{"more than remembered", recentChanges + 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := &racingRegistry{fakeRegistry: fakeRegistry{}}
			reg.set(d.id, activeContext(d, nil, "p"))
			g := &Gatekeeper{Registry: reg, Account: testAccount, ApplyWait: -1}
			reg.onLoad = func() {
				events := make([]registry.Event, 0, 3*tc.others)
				for i := range tc.others {
					other := fmt.Sprintf("other-%d", i)
					events = append(events,
						registry.Event{Kind: registry.CertificateChanged, ID: other},
						registry.Event{Kind: registry.AttachmentsChanged, ID: testAccount.CertificateARN(other)},
						registry.Event{Kind: registry.ThingChanged, ID: other})
				}
				for i := 0; i < len(events); i += 3 { // one provisioned device at a time
					g.OnRegistryChange(events[i : i+3])
				}
			}
			if _, err := connect(g, d, "sensor", nil); err != nil {
				t.Fatal(err)
			}
			if got := reg.loads.Load(); got != tc.wantLoads {
				t.Errorf("%d principal context reads, want %d", got, tc.wantLoads)
			}
		})
	}
}

// racingRegistry runs onLoad once, after its first PrincipalContext answer.
type racingRegistry struct {
	fakeRegistry
	once   sync.Once
	onLoad func()
}

func (r *racingRegistry) PrincipalContext(ctx context.Context, certID string) (*registry.PrincipalContext, error) {
	pc, err := r.fakeRegistry.PrincipalContext(ctx, certID)
	r.once.Do(r.onLoad)
	return pc, err
}

// BenchmarkGroupAttachFanOut measures one policy attached to a thing group
// whose 20,000 devices are all connected: how long the API call that made
// the change is held (hold-ms), and how long until every session has been
// re-evaluated (apply-ms), with a registry that answers at once and one
// that takes 100 us per principal context (SQLite's reads of one).
func BenchmarkGroupAttachFanOut(b *testing.B) {
	const devices = 20000
	ca := pkitest.NewRoot(b, "ca")
	d := newDevice(b, ca, "sensor") // one certificate, many sessions: the reload per session is what counts
	for _, delay := range []time.Duration{0, 100 * time.Microsecond} {
		b.Run("registry="+delay.String(), func(b *testing.B) {
			reg := &fakeRegistry{}
			reg.set(d.id, activeContext(d, []string{"fleet"}, "p"))
			g := runningGate(b, reg, 0)
			for i := range devices {
				if _, err := connect(g, d, "sensor", nil); err != nil {
					b.Fatalf("session %d: %v", i, err)
				}
			}
			reg.delay = delay
			event := []registry.Event{{Kind: registry.AttachmentsChanged, ID: testAccount.ThingGroupARN("fleet")}}
			var hold, apply time.Duration
			b.ResetTimer()
			for range b.N {
				before := reg.loads.Load()
				start := time.Now()
				g.OnRegistryChange(event)
				hold += time.Since(start)
				for reg.loads.Load()-before < devices {
					time.Sleep(100 * time.Microsecond)
				}
				apply += time.Since(start)
			}
			b.ReportMetric(float64(hold.Milliseconds())/float64(b.N), "hold-ms")
			b.ReportMetric(float64(apply.Milliseconds())/float64(b.N), "apply-ms")
		})
	}
}

// A device whose policies name another region than the server's is refused
// (its resources can never match), and the refusal says so for the log.
func TestRefusalNamesForeignARNs(t *testing.T) {
	d := newDevice(t, newTestCA(t), "sensor")
	reg := &fakeRegistry{}
	pc := activeContext(d, nil)
	pc.Policies = []registry.NamedPolicy{{Name: "DevicePolicy", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:eu-west-1:123456789012:client/sensor"}]}`}}
	reg.set(d.id, pc)
	g := &Gatekeeper{Registry: reg, Account: testAccount}
	_, err := connect(g, d, "sensor", nil)
	var refused *RefusedError
	if !errors.As(err, &refused) || refused.How != NotAuthorized {
		t.Fatalf("Connect: %v, want NotAuthorized", err)
	}
	for _, want := range []string{"policy DevicePolicy", "eu-west-1", "this server's region is us-east-1"} {
		if !strings.Contains(refused.Reason, want) {
			t.Errorf("reason %q lacks %q", refused.Reason, want)
		}
	}
}

// BenchmarkOnboardingWithConnectedFleet measures what one device's
// provisioning costs the gate while a fleet is connected: the registry
// changes a JITP device commits (its certificate, its thing, its
// certificate's attachments) reach the gate, which must find the live
// sessions they concern (none: the device is new) before the commit
// returns. That cost must not grow with the fleet.
func BenchmarkOnboardingWithConnectedFleet(b *testing.B) {
	ca := pkitest.NewRoot(b, "ca")
	d := newDevice(b, ca, "sensor")
	for _, fleet := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("connected=%d", fleet), func(b *testing.B) {
			reg := &fakeRegistry{}
			reg.set(d.id, activeContext(d, []string{"fleet"}, "p"))
			g := runningGate(b, reg, time.Minute)
			for i := range fleet {
				if _, err := connect(g, d, fmt.Sprintf("sensor-%d", i), nil); err != nil {
					b.Fatalf("session %d: %v", i, err)
				}
			}
			b.ResetTimer()
			for i := range b.N {
				id := fmt.Sprintf("%064x", i)
				g.OnRegistryChange([]registry.Event{
					{Kind: registry.CertificateChanged, ID: id},
					{Kind: registry.ThingChanged, ID: fmt.Sprintf("new-%d", i)},
					{Kind: registry.AttachmentsChanged, ID: testAccount.CertificateARN(id)},
				})
			}
		})
	}
}

// The gate finds the sessions a change concerns by what they hold now: a
// session reloaded with another policy, thing and group is found under the
// new ones and no longer under the old; its client id names its connection
// thing; a closed session is found under nothing.
func TestChangesFindSessionsByWhatTheyNowHold(t *testing.T) {
	ca := pkitest.NewRoot(t, "ca")
	reg := &fakeRegistry{}
	g := runningGate(t, reg, time.Minute)
	a, b := newDevice(t, ca, "a"), newDevice(t, ca, "b")
	reg.set(a.id, activeContext(a, []string{"old-group"}, "old-policy"))
	reg.set(b.id, activeContext(b, nil, "shared"))
	sa, err := connect(g, a, "client-a", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := connect(g, b, "client-b", nil); err != nil {
		t.Fatal(err)
	}
	reloaded := func(events ...registry.Event) int64 {
		t.Helper()
		before := reg.loads.Load()
		g.OnRegistryChange(events) // waits: ApplyWait is long
		return reg.loads.Load() - before
	}
	thing := func(name string) registry.Event { return registry.Event{Kind: registry.ThingChanged, ID: name} }
	policy := func(name string) registry.Event { return registry.Event{Kind: registry.PolicyChanged, ID: name} }
	group := func(name string) registry.Event {
		return registry.Event{Kind: registry.AttachmentsChanged, ID: testAccount.ThingGroupARN(name)}
	}

	if n := reloaded(thing("client-a")); n != 1 {
		t.Errorf("a change to the thing named as a's client id reloaded %d sessions, want 1", n)
	}
	// a's certificate gets another policy, a thing and another group.
	pc := activeContext(a, []string{"new-group"}, "new-policy", "shared")
	pc.Things = []registry.ThingWithPrincipal{{Thing: registry.Thing{Name: "pump-7"}}}
	reg.set(a.id, pc)
	if n := reloaded(registry.Event{Kind: registry.AttachmentsChanged, ID: testAccount.CertificateARN(a.id)}); n != 1 {
		t.Fatalf("the change to a's attachments reloaded %d sessions, want 1", n)
	}
	for _, tc := range []struct {
		event registry.Event
		want  int64
	}{
		{policy("old-policy"), 0},
		{policy("new-policy"), 1},
		{policy("shared"), 2},
		{group("old-group"), 0},
		{group("new-group"), 1},
		{thing("pump-7"), 1},
		{registry.Event{Kind: registry.CertificateChanged, ID: a.id}, 1},
		// Several subjects of one session reload it once.
		{policy("new-policy"), 1},
	} {
		if n := reloaded(tc.event); n != tc.want {
			t.Errorf("%v: %d sessions reloaded, want %d", tc.event, n, tc.want)
		}
	}
	if n := reloaded(policy("new-policy"), group("new-group"), thing("pump-7")); n != 1 {
		t.Errorf("three changes that concern a reloaded it %d times, want once", n)
	}
	sa.Close(DisconnectInfo{})
	if n := reloaded(policy("shared"), thing("client-a")); n != 1 {
		t.Errorf("after a closed: %d sessions reloaded, want 1 (b's)", n)
	}
}

// BenchmarkConnectAndClose connects and closes sessions from many
// goroutines at once, as a reconnect storm does, with 10,000 others
// connected: what the gate's own bookkeeping costs a connect, and whether
// connects on many cores queue on one lock (run with -cpu 1,2,8,16 and
// -mutexprofile).
func BenchmarkConnectAndClose(b *testing.B) {
	ca := pkitest.NewRoot(b, "ca")
	d := newDevice(b, ca, "sensor")
	reg := &fakeRegistry{}
	reg.set(d.id, activeContext(d, []string{"fleet"}, "p"))
	g := runningGate(b, reg, time.Minute)
	for i := range 10000 {
		if _, err := connect(g, d, fmt.Sprintf("idle-%d", i), nil); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s, err := connect(g, d, fmt.Sprintf("storm-%d", next.Add(1)), nil)
			if err != nil {
				b.Error(err)
				return
			}
			s.Close(DisconnectInfo{ClientInitiated: true})
		}
	})
}
