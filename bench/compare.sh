#!/usr/bin/env bash
# iotcore side by side with Debian's mosquitto and a bare Go mutual-TLS
# server (bench/tlsfloor, the floor any Go server pays for a connect), on
# loopback, with `iotcore bench`: connects, idle connections, fan-in and
# fan-out messages at QoS 0 and 1, and iotcore's just-in-time provisioning.
# Server CPU per operation comes from /proc/PID/stat, memory per idle
# connection from VmRSS. Writes docs/benchmarks.md and docs/benchmarks.png.
#
# Usage: bench/compare.sh [--quick] [DIR]
#   --quick  short runs (under a minute; noisy figures)
#   DIR      where binaries, certificates, logs and raw results go
#            (default: a new temporary directory)
set -euo pipefail

usage() {
  cat << 'EOF'
Usage: bench/compare.sh [--quick] [DIR]
  --quick  short runs (under a minute; noisy figures)
  DIR      where binaries, certificates, logs and raw results go
           (default: a new temporary directory)
EOF
}

quick=false
dir=""
while (($#)); do
  case $1 in
    --quick) quick=true ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; exit 2 ;;
    *) [[ -z $dir ]] || { usage >&2; exit 2; }; dir=$1 ;;
  esac
  shift
done

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${dir:-$(mktemp -d -t iotcore-compare.XXXXXX)}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
res=$dir/results
rm -rf "$res" "$dir/data" "$dir/certs"
mkdir -p "$res"

log() { echo "compare: $*" >&2; }
die() { echo "compare: $*" >&2; exit 1; }

# reps: how many times the connect and pubsub runs are repeated; the
# report takes the median run of each (two cores shared with the load
# generator make single runs vary by a fifth).
if $quick; then
  connect_for=3s idle_conns=1000 idle_hold=1s jitp_devices=500 fleet_devices=300 pubsub_for=2s drain=1s limit=60 reps=1
else
  connect_for=10s idle_conns=5000 idle_hold=5s jitp_devices=2000 fleet_devices=1000 pubsub_for=10s drain=5s limit=300 reps=3
fi
# KEY_EXCHANGE: what the load generator's clients offer (iotcore bench
# --key-exchange): go-default (X25519MLKEM768 first, which a Go server
# picks), x25519 (what device TLS stacks offer), p256. Reported beside the
# figures.
key_exchange=${KEY_EXCHANGE:-go-default}
export KEY_EXCHANGE=$key_exchange
connect_concurrency=8 # steady-state connects, as a fleet's devices come and go
jitp_concurrency=32   # an onboarding storm: many devices at once
# mosquitto holds one descriptor per connection; Go raises its own limit.
ulimit -n "$(ulimit -Hn)" 2> /dev/null || true

# --- programs -----------------------------------------------------------------
# Debian's packages, installed as scripts/test installs its own.
PATH=$PATH:/usr/sbin:/usr/local/go/bin
missing=()
command -v mosquitto > /dev/null || missing+=(mosquitto)
command -v gnuplot > /dev/null || missing+=(gnuplot-nox)
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) == 0 ]] || sudo=sudo
  log "installing ${missing[*]} with apt-get"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; } > "$dir/apt.log" 2>&1 ||
    log "apt-get failed (see $dir/apt.log)"
fi
command -v mosquitto > /dev/null ||
  die "mosquitto is not on PATH (nor in /usr/sbin): install Debian's broker with 'sudo apt-get install -y mosquitto'"
command -v gnuplot > /dev/null ||
  die "gnuplot is not on PATH: install it with 'sudo apt-get install -y gnuplot-nox'"
for p in go python3; do command -v "$p" > /dev/null || die "$p is not on PATH"; done

log "building iotcore and the Go floor server into $dir"
go -C "$repo" build -o "$dir/iotcore" ./cmd/iotcore
go -C "$repo" build -o "$dir/tlsfloor" ./bench/tlsfloor
cd "$dir"

# --- processes ----------------------------------------------------------------
declare -A pid_of=() # the servers' process IDs
bench_pid=""          # the load generator's, while it runs
cleanup() {
  local p
  for p in $bench_pid "${pid_of[@]}"; do kill "$p" 2> /dev/null || true; done
  for p in $bench_pid "${pid_of[@]}"; do wait "$p" 2> /dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Four free loopback ports, held together while the kernel picks them.
read -r api_port iot_port mosq_port floor_port < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(4)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')

# wait_for PID FILE PATTERN WHAT: until FILE holds PATTERN, while PID lives.
wait_for() {
  for _ in $(seq 1 200); do
    grep -q "$3" "$2" 2> /dev/null && return 0
    kill -0 "$1" 2> /dev/null || break
    sleep 0.05
  done
  die "$4 did not start: $(tail -5 "$2" "${2%.out}.err" 2> /dev/null)"
}

# (a) iotcore, on a fresh data directory, without AWS's rate limits (they
# would throttle a load generator on one machine).
./iotcore serve --data-dir data --api-addr "127.0.0.1:$api_port" --mqtt-addr "127.0.0.1:$iot_port" \
  --mqtt-publish-rate -1 --mqtt-connect-rate -1 --fleet-create-keys-rate -1 --fleet-create-from-csr-rate -1 \
  --fleet-register-thing-rate -1 --log-level warn > iotcore.out 2> iotcore.err &
pid_of[iotcore]=$!
wait_for "${pid_of[iotcore]}" iotcore.out endpoint-url iotcore

# Certificates: a device CA and two client certificates made with iotcore
# pki. mosquitto and the floor present the server certificate iotcore serve
# generated (ECDSA P-256, CN and SAN localhost), so that every server's
# handshake signs with the same kind of key and clients trust data/ca.pem.
./iotcore pki ca create --dir certs --name devca --cn "bench device CA" --o "iotcore bench" > certs.log
./iotcore pki device-cert --dir certs --ca certs/devca.pem --ca-key certs/devca.key --cn bench-dev --name dev >> certs.log
./iotcore pki device-cert --dir certs --ca certs/devca.pem --ca-key certs/devca.key --cn bench-sub --name sub >> certs.log

# (b) mosquitto: TLS with client certificates, the CN as user name, and an
# ACL pattern that keeps each client under its own CN (as iotcore's
# policies do); bench-sub may read everything (as the admin identity
# `iotcore bench --setup` gives iotcore's subscribers).
: > mosquitto.err
cat > mosquitto.acl << 'EOF'
pattern readwrite %u/#
user bench-sub
topic read #
EOF
# mosquitto_conf NODELAY: the configuration, with set_tcp_nodelay NODELAY.
mosquitto_conf() {
  echo "per_listener_settings false"
  echo "persistence false"
  echo "log_dest stderr"
  echo "log_type error"
  echo "log_type warning"
  echo "log_type notice"
  # iotcore logs nothing per connect at --log-level warn
  echo "connection_messages false"
  echo "allow_anonymous false"
  echo "acl_file $dir/mosquitto.acl"
  # QoS 1: mosquitto acknowledges a PUBLISH at once and queues what a
  # subscriber's in-flight window cannot take; past max_queued_messages
  # (default 1000) it drops, which loses most QoS 1 messages of a fan-in.
  # No limit, so that neither broker loses QoS 1 (iotcore holds publishers
  # back instead). 100 in flight: AWS IoT's (and iotcore's) window.
  echo "max_queued_messages 0"
  echo "max_inflight_messages 100"
  # Go sets TCP_NODELAY on every connection; mosquitto does when told to.
  # Each scenario gets mosquitto's better setting: on for connects (off,
  # Nagle's algorithm holds each CONNACK behind the client's delayed ACK:
  # 44 ms a connect), off for messages (on, its throughput halves).
  echo "set_tcp_nodelay $1"
  [[ $(id -u) != 0 ]] || echo "user root" # stay root rather than switch to user mosquitto
  echo "listener $mosq_port 127.0.0.1"
  echo "cafile $dir/certs/devca.pem"
  echo "certfile $dir/data/server.pem"
  echo "keyfile $dir/data/server.key"
  echo "require_certificate true"
  echo "use_identity_as_username true"
}

# start_mosquitto NODELAY: (re)start mosquitto and wait until it listens.
start_mosquitto() {
  local p i
  if [[ -n ${pid_of[mosquitto]:-} ]]; then
    kill "${pid_of[mosquitto]}" 2> /dev/null || true
    wait "${pid_of[mosquitto]}" 2> /dev/null || true
  fi
  mosquitto_conf "$1" > "mosquitto-nodelay-$1.conf"
  mosquitto -c "mosquitto-nodelay-$1.conf" > mosquitto.out 2>> mosquitto.err &
  p=$!
  pid_of[mosquitto]=$p
  for i in $(seq 1 200); do
    (: < "/dev/tcp/127.0.0.1/$mosq_port") 2> /dev/null && return 0
    kill -0 "$p" 2> /dev/null || die "mosquitto did not start: $(tail -5 mosquitto.err)"
    ((i < 200)) || die "mosquitto did not listen on port $mosq_port"
    sleep 0.05
  done
}
start_mosquitto true

# (c) the floor: TLS with client certificates, CONNECT, CONNACK, nothing else.
./tlsfloor --addr "127.0.0.1:$floor_port" --cert data/server.pem --key data/server.key \
  --client-ca certs/devca.pem > tlsfloor.out 2> tlsfloor.err &
pid_of[floor]=$!
wait_for "${pid_of[floor]}" tlsfloor.out "listening on" tlsfloor

# --- measuring ----------------------------------------------------------------
# iotcore is driven through its API (--setup): each run registers a CA and
# provisions its devices just in time (10 to 40 ms of server CPU, counted
# with the run). The others get the certificates made above.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL
export AWS_SHARED_CREDENTIALS_FILE=$dir/data/credentials AWS_CONFIG_FILE=$dir/no-aws-config AWS_REGION=us-east-1
declare -A args_of=(
  [iotcore]="--endpoint 127.0.0.1:$iot_port --setup --endpoint-url http://127.0.0.1:$api_port"
  [mosquitto]="--endpoint 127.0.0.1:$mosq_port --cert certs/dev.crt --key certs/dev.key"
  [floor]="--endpoint 127.0.0.1:$floor_port --cert certs/dev.crt --key certs/dev.key"
)
trust=(--cafile data/ca.pem --server-name localhost --json)

# cpu_ticks PID: the process's user and system CPU, in clock ticks.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
alive() { kill -0 "${pid_of[$1]}" 2> /dev/null || die "$1 (pid ${pid_of[$1]}) died: see $dir/${1/floor/tlsfloor}.err"; }

# run NAME TARGET SCENARIO ARGS...: one `iotcore bench` run against TARGET,
# its JSON summary in results/NAME.json and the server CPU it took in
# results/NAME.cpu (ticks).
run() {
  local name=$1 target=$2 scenario=$3 c0
  shift 3
  alive "$target"
  log "$name"
  c0=$(cpu_ticks "${pid_of[$target]}")
  start_bench "$name" "$target" "$scenario" "$@"
  wait_bench "$name"
  echo $(($(cpu_ticks "${pid_of[$target]}") - c0)) > "$res/$name.cpu"
}

# start_bench NAME TARGET SCENARIO ARGS...: start `iotcore bench` in the
# background (where SIGINT and SIGTERM can still end this script), bounded
# by the time limit.
start_bench() {
  local name=$1 target=$2 scenario=$3
  shift 3
  # shellcheck disable=SC2086 # args_of holds several words
  timeout --signal=INT --kill-after=10 "$limit" ./iotcore bench "$scenario" ${args_of[$target]} "${trust[@]}" --key-exchange "$key_exchange" "$@" \
    > "$res/$name.json" 2> "$res/$name.err" &
  bench_pid=$!
}

wait_bench() {
  wait "$bench_pid" || log "$1 failed: $(tail -3 "$res/$1.err")"
  bench_pid=""
}

# idle TARGET: hold idle_conns connections; the server's RSS before and
# while it holds them goes to results/idle-TARGET.rss ("before while", kB).
idle() {
  local target=$1 pid=${pid_of[$1]} before
  alive "$target"
  log "idle-$target"
  before=$(rss_kb "$pid")
  start_bench "idle-$target" "$target" idle --connections "$idle_conns" --hold "$idle_hold"
  for _ in $(seq 1 $((limit * 10))); do
    grep -q "connections established" "$res/idle-$target.err" && break
    kill -0 "$bench_pid" 2> /dev/null || break
    sleep 0.1
  done
  sleep 0.5 # let the last connections settle
  echo "$before $(rss_kb "$pid")" > "$res/idle-$target.rss"
  wait_bench "idle-$target"
}

started=$(date +%s)
# Scenario by scenario, so that noise from elsewhere on the machine falls on
# every server alike; idle first, while the servers' memory is fresh.
for t in iotcore mosquitto floor; do idle "$t"; done
for r in $(seq 1 "$reps"); do
  for t in iotcore mosquitto floor; do
    run "connect-$t-r$r" "$t" connect --concurrency "$connect_concurrency" --duration "$connect_for"
  done
done
for r in $(seq 1 "$reps"); do
  run "jitp-iotcore-r$r" iotcore jitp --devices "$jitp_devices" --concurrency "$jitp_concurrency"
done
for r in $(seq 1 "$reps"); do
  run "fleet-iotcore-r$r" iotcore fleet --csr --devices "$fleet_devices" --concurrency "$jitp_concurrency"
done
start_mosquitto false
for r in $(seq 1 "$reps"); do
  for shape in "fanin 4 1" "fanout 1 4"; do
    read -r name pubs subs <<< "$shape"
    for qos in 0 1; do
      for t in iotcore mosquitto; do
        sub=(--sub-cert certs/sub.crt --sub-key certs/sub.key)
        [[ $t != iotcore ]] || sub=() # --setup makes the subscribers' identity
        run "$name-qos$qos-$t-r$r" "$t" pubsub --publishers "$pubs" --subscribers "$subs" --qos "$qos" --size 64 \
          --topic '{cn}/bench/{i}' --duration "$pubsub_for" --drain "$drain" "${sub[@]}"
      done
    done
  done
done
# Go microbenchmarks of the hot paths: a policy decision (the issue's
# target: a cached one under 200 ns), template rendering, choosing the CA
# that signed a certificate, SigV4 verification.
log "microbenchmarks"
$quick && benchtime=100ms || benchtime=1s
go -C "$repo" test -run '^$' -benchmem -benchtime "$benchtime" \
  -bench '^(BenchmarkDecide|BenchmarkParseRender|BenchmarkSignedBy|BenchmarkVerify)$' \
  ./internal/policy ./internal/template ./internal/pki ./internal/awsapi/sigv4 > "$res/micro.txt" 2>&1 ||
  log "microbenchmarks failed: $(tail -3 "$res/micro.txt")"
log "measured in $(($(date +%s) - started))s; writing docs/benchmarks.md"

# --- the report -----------------------------------------------------------------
mode=full
$quick && mode=quick
command_line="bench/compare.sh"
$quick && command_line+=" --quick"
python3 - "$res" "$repo" "$mode" "$command_line" "$(getconf CLK_TCK)" << 'EOF'
import datetime, json, os, platform, subprocess, sys

res, repo, mode, command_line, clk_tck = sys.argv[1:6]
clk_tck = int(clk_tck)
docs = os.path.join(repo, "docs")


def sh(*cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (p.stdout or p.stderr).strip()


def summary(name):
    try:
        with open(os.path.join(res, name + ".json")) as f:
            for line in f:
                if line.strip():
                    return json.loads(line)
    except (OSError, ValueError):
        pass
    return None


def cpu_s(name):
    try:
        with open(os.path.join(res, name + ".cpu")) as f:
            return int(f.read()) / clk_tck
    except (OSError, ValueError):
        return None


def median_run(name, key):
    """The repetition name-rN whose summary has the median value of key."""
    reps = []
    for i in range(1, 100):
        s = summary("%s-r%d" % (name, i))
        if s is None:
            break
        reps.append((s.get(key) or 0, "%s-r%d" % (name, i)))
    if not reps:
        return name
    reps.sort()
    return reps[(len(reps) - 1) // 2][1]


def per(name, count):
    """Server CPU seconds per operation, or None."""
    c = cpu_s(name)
    return c / count if c is not None and count else None


targets = ("iotcore", "mosquitto", "floor")
m = {}  # (metric, target) -> number
reps = 1
while summary("connect-iotcore-r%d" % (reps + 1)):
    reps += 1
for t in targets:
    name = median_run("connect-" + t, "connects_per_s")
    s = summary(name)
    if s:
        m["connect_rate", t] = s["connects_per_s"]
        m["connect_cpu", t] = per(name, s["connects"])
        m["connect_p50", t] = s["latency_ms"]["p50"]
        m["connect_p99", t] = s["latency_ms"]["p99"]
    s = summary("idle-" + t)
    try:
        with open(os.path.join(res, "idle-%s.rss" % t)) as f:
            before, during = map(int, f.read().split())
        if s and s["established"]:
            m["idle_rss", t] = (during - before) / s["established"]
            m["idle_n", t] = s["established"]
            m["idle_alive", t] = s["alive"]
    except (OSError, ValueError):
        pass
jitp_run = median_run("jitp-iotcore", "devices_per_s")
s = summary(jitp_run)
if s:
    m["jitp_rate", "iotcore"] = s["devices_per_s"]
    m["jitp_cpu", "iotcore"] = per(jitp_run, s["provisioned"])
    m["jitp_p50", "iotcore"] = s["latency_ms"]["p50"]
    m["jitp_p99", "iotcore"] = s["latency_ms"]["p99"]
    m["jitp_n", "iotcore"] = s["provisioned"]
fleet_run = median_run("fleet-iotcore", "devices_per_s")
s = summary(fleet_run)
if s:
    m["fleet_rate", "iotcore"] = s["devices_per_s"]
    m["fleet_cpu", "iotcore"] = per(fleet_run, s["provisioned"])
    m["fleet_p50", "iotcore"] = s["latency_ms"]["p50"]
    m["fleet_p99", "iotcore"] = s["latency_ms"]["p99"]
pubsubs = [("fanin", 0), ("fanin", 1), ("fanout", 0), ("fanout", 1)]
labels = {"fanin": "fan-in 4→1", "fanout": "fan-out 1→4"}
for shape, qos in pubsubs:
    for t in ("iotcore", "mosquitto"):
        name = median_run("%s-qos%d-%s" % (shape, qos, t), "delivered_per_s")
        s = summary(name)
        if s:
            k = (shape, qos)
            m[k + ("rate",), t] = s["delivered_per_s"]
            m[k + ("loss",), t] = s["loss_percent"]
            m[k + ("lost",), t] = s["lost"]
            m[k + ("p50",), t] = s["latency_ms"]["p50"]
            m[k + ("p99",), t] = s["latency_ms"]["p99"]
            m[k + ("cpu",), t] = per(name, s["delivered"])


def get(key, t):
    return m.get((key, t))


def fmt(v, spec, unit=""):
    return "—" if v is None else format(v, spec) + unit


def ms(v):
    return fmt(v * 1e3 if v is not None else None, ".2f", " ms")


def us(v):
    return fmt(v * 1e6 if v is not None else None, ".1f", " µs")


def lat(p50, p99):
    if p50 is None:
        return "—"
    f = lambda x: "%.2f" % x if x < 10 else "%.0f" % x
    return "%s / %s ms" % (f(p50), f(p99))


def ratio(a, b):
    return a / b if a is not None and b else None


rows = []  # (label, iotcore, mosquitto, floor)


def row(label, f, key, *args):
    rows.append((label,) + tuple(f(get(key, t), *args) for t in targets))


conc = next((s["concurrency"] for s in map(summary, ["connect-%s-r1" % t for t in targets]) if s), 0)
rows.append(("**connect** (steady state, concurrency %d)" % conc, "", "", ""))
row("connects/s", fmt, "connect_rate", ",.0f")
row("server CPU per connect", ms, "connect_cpu")
rows.append(("CPU per connect ÷ Go floor",) + tuple(fmt(ratio(get("connect_cpu", t), get("connect_cpu", "floor")), ".2f", "×") for t in targets))
rows.append(("TCP connect → CONNACK p50 / p99",) + tuple(lat(get("connect_p50", t), get("connect_p99", t)) for t in targets))
n_idle = next((get("idle_n", t) for t in targets if get("idle_n", t)), 0)
rows.append(("**idle** (%d connections held)" % n_idle, "", "", ""))
row("RSS per idle connection", fmt, "idle_rss", ".1f", " KiB")
s = summary(jitp_run) or {}
rows.append(("**jitp** (%d new devices, concurrency %d)" % (s.get("devices", 0), s.get("concurrency", 0)), "", "", ""))
rows.append(("devices provisioned/s", fmt(get("jitp_rate", "iotcore"), ",.0f"), "n/a", "n/a"))
rows.append(("server CPU per device", ms(get("jitp_cpu", "iotcore")), "n/a", "n/a"))
rows.append(("CPU per device ÷ Go floor's per connect", fmt(ratio(get("jitp_cpu", "iotcore"), get("connect_cpu", "floor")), ".2f", "×"), "n/a", "n/a"))
rows.append(("first connect → PUBACK p50 / p99", lat(get("jitp_p50", "iotcore"), get("jitp_p99", "iotcore")), "n/a", "n/a"))
s = summary(fleet_run) or {}
rows.append(("**fleet provisioning, CSR** (%d devices, concurrency %d)" % (s.get("devices", 0), s.get("concurrency", 0)), "", "", ""))
rows.append(("devices provisioned/s", fmt(get("fleet_rate", "iotcore"), ",.0f"), "n/a", "n/a"))
rows.append(("server CPU per device", ms(get("fleet_cpu", "iotcore")), "n/a", "n/a"))
rows.append(("claim connect → new certificate's PUBACK p50 / p99", lat(get("fleet_p50", "iotcore"), get("fleet_p99", "iotcore")), "n/a", "n/a"))
for shape, qos in pubsubs:
    k = (shape, qos)
    rows.append(("**%s, QoS %d** (64 B)" % (labels[shape], qos), "", "", ""))
    rows.append(("delivered msgs/s",) + tuple(fmt(get(k + ("rate",), t), ",.0f") for t in targets[:2]) + ("n/a",))
    rows.append(("lost",) + tuple(fmt(get(k + ("loss",), t), ".2f", "%") for t in targets[:2]) + ("n/a",))
    rows.append(("publish → delivery p50 / p99",) + tuple(lat(get(k + ("p50",), t), get(k + ("p99",), t)) for t in targets[:2]) + ("n/a",))
    rows.append(("server CPU per delivered msg",) + tuple(us(get(k + ("cpu",), t)) for t in targets[:2]) + ("n/a",))


def verdict(v, ok):
    return "—" if v is None else ("met" if ok(v) else "**missed**")


goals = []
v = ratio(get("connect_cpu", "iotcore"), get("connect_cpu", "floor"))
goals.append(("server CPU per steady-state connect ≤ 1.15× the Go floor", fmt(v, ".2f", "×"), verdict(v, lambda x: x <= 1.15)))
v = ratio(get("jitp_cpu", "iotcore"), get("connect_cpu", "floor"))
goals.append(("server CPU per JITP device ≤ 2.3× the Go floor's per connect", fmt(v, ".2f", "×"), verdict(v, lambda x: x <= 2.3)))
v = get("jitp_rate", "iotcore")
goals.append(("≥ 500 devices/s provisioned (client and server on this machine)", fmt(v, ",.0f", "/s"), verdict(v, lambda x: x >= 500)))
v = get("fleet_rate", "iotcore")
goals.append(("≥ 300 devices/s by fleet provisioning, limits lifted (issue 12)", fmt(v, ",.0f", "/s"), verdict(v, lambda x: x >= 300)))
for shape, qos in pubsubs:
    k = (shape, qos, "rate")
    v = ratio(get(k, "iotcore"), get(k, "mosquitto"))
    goals.append(("%s QoS %d: delivered msgs/s ≥ 1.5× mosquitto's" % (labels[shape], qos), fmt(v, ".2f", "×"), verdict(v, lambda x: x >= 1.5)))
lost = [get((shape, 1, "lost"), "iotcore") for shape in ("fanin", "fanout")]
v = None if None in lost else sum(lost)
goals.append(("no QoS 1 message lost (iotcore)", fmt(v, ",d", " lost"), verdict(v, lambda x: x == 0)))
v = get("idle_rss", "iotcore")
goals.append(("idle mTLS connection ≤ 40 KiB RSS", fmt(v, ".1f", " KiB"), verdict(v, lambda x: x <= 40)))

# The microbenchmarks: "BenchmarkDecide/cached-2  500000  28.3 ns/op  0 B/op  0 allocs/op".
micro = []  # (name, ns/op, B/op, allocs/op)
try:
    with open(os.path.join(res, "micro.txt")) as f:
        for line in f:
            parts = line.split()
            if not parts or not parts[0].startswith("Benchmark") or "ns/op" not in parts:
                continue
            name = parts[0][len("Benchmark"):].rsplit("-", 1)[0]
            val = lambda unit: parts[parts.index(unit) - 1] if unit in parts else "—"
            micro.append((name, float(val("ns/op")), val("B/op"), val("allocs/op")))
except OSError:
    pass
v = next((ns for name, ns, _, _ in micro if name == "Decide/cached"), None)
goals.append(("cached policy decision < 200 ns", fmt(v, ".1f", " ns"), verdict(v, lambda x: x < 200)))

# The machine.
cpu_model = ""
try:
    with open("/proc/cpuinfo") as f:
        cpu_model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    with open("/proc/meminfo") as f:
        mem_kb = int(next(l.split()[1] for l in f if l.startswith("MemTotal")))
except (OSError, StopIteration, ValueError):
    mem_kb = 0
mosquitto_version = (sh("mosquitto", "-h").splitlines() or ["?"])[0].replace(" version", "")
deb = sh("dpkg-query", "-W", "-f", "${Version}", "mosquitto")
if deb and "no packages" not in deb:
    mosquitto_version += " (Debian %s)" % deb
openssl = " ".join(sh("openssl", "version").split()[:2])
if openssl:
    mosquitto_version += ", " + openssl
commit = sh("git", "-C", repo, "rev-parse", "--short", "HEAD")
if sh("git", "-C", repo, "status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs/benchmarks.*"):
    commit += " (with uncommitted changes)"
machine = [
    ("CPU", "%s × %s" % (sh("nproc"), cpu_model or "unknown")),
    ("GOMAXPROCS", os.environ.get("GOMAXPROCS") or "unset: %s, every CPU" % sh("nproc")),
    ("key exchange offered", os.environ.get("KEY_EXCHANGE", "go-default")),
    ("memory", "%.1f GiB" % (mem_kb / 2**20)),
    ("kernel", "Linux " + platform.release()),
    ("Go", sh("go", "env", "GOVERSION") or "?"),
    ("mosquitto", mosquitto_version),
    ("iotcore", "commit " + (commit or "?")),
    ("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
]

md = []
w = md.append
w("# Benchmarks: iotcore, mosquitto and the bare Go mTLS floor\n")
w("<!-- Written by bench/compare.sh down to the marker below: edit the script, not this part. -->\n")
if mode == "quick":
    w("> **These figures come from a quick run (`--quick`):** short runs, so expect noise. "
      "`bench/compare.sh` without `--quick` takes a few minutes and gives steadier figures.\n")
else:
    w("These figures come from a full run of `bench/compare.sh`.\n")
w("iotcore, Debian's mosquitto and a bare Go mutual-TLS server (`bench/tlsfloor`: handshake, "
  "CONNECT, CONNACK and nothing else, the least any Go server pays) run on loopback, one after another "
  "under the same load generator, `iotcore bench`, in one run. Client and servers share the machine.\n")
w("## Reproduce\n")
w("```sh\n%s\n```\n" % command_line)
w("It needs Go, python3 and Debian's `mosquitto` and `gnuplot-nox` packages (it installs the last two "
  "with apt-get when they are missing). `--quick` runs in under a minute; without it, a few minutes. "
  "Raw results (one JSON summary per run, server CPU ticks, RSS) stay in the directory it names.\n")
w("## Machine\n")
w("| | |\n|---|---|")
for k, v in machine:
    w("| %s | %s |" % (k, v.replace("|", "\\|")))
w("")
w("## Results\n")
w("![Delivered messages per second and server CPU per connect](benchmarks.png)\n")
w("| | iotcore | mosquitto | Go floor |\n|---|--:|--:|--:|")
for r in rows:
    w("| %s |" % " | ".join(r))
w("")
w("## Against the targets of issue 6\n")
w("| target | measured | |\n|---|--:|---|")
for g in goals:
    w("| %s |" % " | ".join(g))
w("")
w("## Go microbenchmarks\n")
w("`go test -bench` on the same machine, in the same run: a policy decision (`Decide`), a provisioning "
  "template parsed and rendered (`ParseRender`), checking that a CA signed a device certificate, the step "
  "of choosing its CA (`SignedBy`), and SigV4 verification of an API request (`Verify`).\n")
w("| benchmark | time | allocated | allocations |\n|---|--:|--:|--:|")
for name, ns, bop, allocs in micro:
    t = "%.1f ns" % ns if ns < 1e3 else "%.1f µs" % (ns / 1e3)
    w("| %s | %s | %s B | %s |" % (name, t, bop, allocs))
w("")
w("## How it is measured\n")
if reps > 1:
    w("- **Repetitions**: each connect, jitp and pubsub run was made %d times; the table shows the "
      "median run of each (by connects/s, devices/s or delivered msgs/s), with that run's CPU and latency." % reps)
w("- **Server CPU** is the server process's user + system time from `/proc/PID/stat` before and after "
  "each run, divided by the run's operations: accepted connects, provisioned devices, or delivered messages. "
  "iotcore's runs include what `--setup` costs it (registering a CA and provisioning the run's devices "
  "through the API: 10 to 40 ms, a percent or two of a quick run's CPU and less of a full run's).")
w("- **RSS per idle connection** is (VmRSS while the connections are held − VmRSS before) ÷ connections, "
  "from `/proc/PID/status`; it includes whatever the server's allocator keeps after the handshakes.")
w("- Every client uses an ECDSA P-256 certificate and a full TLS 1.3 handshake (no resumption); every "
  "server presents the same ECDSA P-256 certificate, the one `iotcore serve` generated. The clients offer "
  "the key exchange in the machine table (`KEY_EXCHANGE`): with Go's default, iotcore and the Go floor "
  "negotiate X25519MLKEM768, about 0.13 ms more server CPU per handshake than the X25519 that mosquitto's "
  "OpenSSL 3.0 and most devices use (see the scale-up section).")
w("- **iotcore**: `iotcore serve --mqtt-publish-rate -1 --mqtt-connect-rate -1 --log-level warn` on a fresh "
  "data directory (SQLite); AWS IoT's per-connection rate limits are off, policies are enforced on every "
  "connect, publish, subscribe and delivery. The load generator sets itself up through the API "
  "(`--setup`): JITP-provisioned devices whose policies allow their own `<thing>/...` topics, and "
  "subscribers whose policy allows every topic.")
w("- **mosquitto**: a TLS listener with `require_certificate true` and `use_identity_as_username true`, "
  "`allow_anonymous false`, and an ACL file: `pattern readwrite %u/#` for every client, `topic read #` for "
  "the subscribers' identity. `max_queued_messages 0` (no limit): with the default of 1,000, mosquitto, which "
  "acknowledges a QoS 1 PUBLISH at once, drops most QoS 1 messages of a fan-in; iotcore holds the publishers "
  "back instead, and neither should lose QoS 1. `max_inflight_messages 100`, AWS IoT's window, which iotcore "
  "and the load generator's publishers use. `connection_messages false`, as iotcore logs nothing per connect. "
  "`set_tcp_nodelay`, which Go sets on every connection, is on for connect and idle (off, Nagle's algorithm "
  "holds each CONNACK behind the client's delayed ACK: 44 ms a connect) and off, mosquitto's default, for "
  "pubsub (on, its message throughput halves): each scenario gets mosquitto's better setting.")
w("- **pubsub**: 64-byte payloads as fast as the server takes them (QoS 1: 100 unacknowledged per publisher); "
  "publisher i publishes to `<CN>/bench/<i>` and the subscribers subscribe to `+/bench/+`. "
  "Delivered msgs/s counts distinct messages received, from the first publish to the last delivery; at "
  "QoS 0 a server may drop what its subscribers cannot take, and the loss says how much it did.")
w("- **jitp** (iotcore only; mosquitto has no counterpart): each new device connects (iotcore provisions it "
  "and drops the connection, as AWS IoT does), reconnects and publishes once at QoS 1: two full handshakes "
  "and the provisioning, set beside the floor's one handshake.")
w("- **fleet** (iotcore only): each device connects with the shared claim certificate, subscribes to the "
  "replies, sends a CSR (CreateCertificateFromCsr), registers (RegisterThing), reconnects with its new "
  "certificate and publishes once at QoS 1; iotcore runs with AWS's fleet rates lifted.")
w("")
# What follows the marker in the current file is written by hand (what
# limits the figures, and why): it is kept.
marker = "<!-- Below: written by hand, kept by bench/compare.sh. -->"
kept = ""
try:
    with open(os.path.join(docs, "benchmarks.md")) as f:
        old = f.read()
    if marker in old:
        kept = old[old.index(marker):]
except OSError:
    pass
with open(os.path.join(docs, "benchmarks.md"), "w") as f:
    f.write("\n".join(md) + "\n" + (kept or marker + "\n"))

# The chart's data, for gnuplot.
def num(v, scale=1.0):
    return "-" if v is None else "%.6g" % (v * scale)


with open(os.path.join(res, "pubsub.dat"), "w") as f:
    for shape, qos in pubsubs:
        f.write('"%s QoS %d" %s %s\n' % (labels[shape].split()[0], qos, num(get((shape, qos, "rate"), "iotcore"), 1e-3),
                                        num(get((shape, qos, "rate"), "mosquitto"), 1e-3)))
cpus = [get("connect_cpu", t) for t in targets] + [get("jitp_cpu", "iotcore")]
with open(os.path.join(res, "cpu.dat"), "w") as f:
    f.write('"per connect" %s %s %s\n' % tuple(num(v, 1e3) for v in cpus[:3]))
    f.write('"per JITP device" %s - -\n' % num(cpus[3], 1e3))
rates = [get((shape, qos, "rate"), t) for shape, qos in pubsubs for t in targets[:2]]
with open(os.path.join(res, "chart.gp"), "w") as f:
    f.write('title = "iotcore and %s on loopback, mutual TLS (%s run, %s cores, client on the same machine)"\n'
            % (mosquitto_version.split(" (")[0].split(",")[0], mode, sh("nproc")))
    f.write("ymax_rate = %g\n" % (max([r for r in rates if r] or [1]) * 1.15e-3))
    f.write("ymax_cpu = %g\n" % (max([c for c in cpus if c] or [1e-3]) * 1.2e3))

# The table, for the terminal.
print("\n".join(md[md.index("## Results\n") + 2:md.index("## How it is measured\n")]))
EOF

gnuplot << EOF
load "$res/chart.gp"
set terminal pngcairo size 1200,500 font "sans,10"
set output "$repo/docs/benchmarks.png"
set datafile missing "-"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top right
set multiplot layout 1,2 title title
set title "Delivered messages per second, 64 B payloads"
set ylabel "thousand msgs/s"
set yrange [0:ymax_rate]
plot "$res/pubsub.dat" using 2:xtic(1) title "iotcore" lc rgb "#1f77b4", \
     "" using 3 title "mosquitto" lc rgb "#ff7f0e", \
     "" using (\$0-1.0/6):2:(sprintf("%.0fk", \$2)) with labels offset 0,0.8 notitle, \
     "" using (\$0+1.0/6):3:(sprintf("%.0fk", \$3)) with labels offset 0,0.8 notitle
set title "Server CPU per operation"
set ylabel "ms of CPU"
set yrange [0:ymax_cpu]
plot "$res/cpu.dat" using 2:xtic(1) title "iotcore" lc rgb "#1f77b4", \
     "" using 3 title "mosquitto" lc rgb "#ff7f0e", \
     "" using 4 title "Go floor" lc rgb "#7f7f7f", \
     "" using (\$0-0.25):2:(sprintf("%.2f", \$2)) with labels offset 0,0.8 notitle, \
     "" using 0:3:(sprintf("%.2f", \$3)) with labels offset 0,0.8 notitle, \
     "" using (\$0+0.25):4:(sprintf("%.2f", \$4)) with labels offset 0,0.8 notitle
unset multiplot
EOF
log "wrote $repo/docs/benchmarks.md and docs/benchmarks.png (raw results in $res)"
