#!/usr/bin/env bash
# The scale run of issue 17 on one machine, built to be carried to a
# many-core machine: it builds nothing (give it an iotcore binary) and keeps
# everything it measures. For each server GOMAXPROCS in PROCS (default: 2
# and every core), a fresh `iotcore serve` on SQLite, without AWS's rate
# limits, with the profiler on and GODEBUG=gctrace=1; against it, `iotcore
# bench` runs JITP onboarding, steady connects, fan-in N->1 and fan-out
# 1->N at QoS 1 and N idle connections held (RSS once established, and
# after two keep-alive rounds). During each scenario it takes
# CPU, mutex and block profiles of the server; after it, the server's CPU
# per operation (/proc/PID/stat), its RSS per idle connection, its metrics
# and the load generator's JSON summary. DIR/summary.md sets the figures of
# every GOMAXPROCS side by side, with the machine they were measured on.
#
# Usage: bench/scale.sh [--quick] [--bin PATH] [DIR]
#   --quick   small counts and short runs (a check of the script: minutes)
#   --bin     the iotcore binary (default: iotcore on PATH)
#   DIR       where results go (default: $OUT, else a temporary directory)
# Environment: PROCS, KEY_EXCHANGE (default x25519, what device TLS stacks
# offer), JITP_DEVICES, CONCURRENCY, CONNECT_FOR, PUBSUB_FOR, FAN,
# IDLE_CONNS override the counts.
set -euo pipefail

quick=false
bin=""
dir=""
while (($#)); do
  case $1 in
    --quick) quick=true ;;
    --bin) bin=$2; shift ;;
    -h | --help) sed -n '2,21p' "$0"; exit 0 ;;
    *) dir=$1 ;;
  esac
  shift
done
log() { echo "scale: $(date +%T) $*" >&2; }
die() { echo "scale: $*" >&2; exit 1; }

bin=${bin:-$(command -v iotcore || true)}
[[ -x $bin ]] || die "no iotcore binary: give one with --bin (go build -o iotcore ./cmd/iotcore)"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
dir=${dir:-${OUT:-$(mktemp -d -t iotcore-scale.XXXXXX)}}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
command -v curl > /dev/null || die "curl is not on PATH"
command -v python3 > /dev/null || die "python3 is not on PATH"

cores=$(nproc)
procs=${PROCS:-$( ((cores > 2)) && echo "2 $cores" || echo "1 $cores")}
key_exchange=${KEY_EXCHANGE:-x25519}
if $quick; then
  jitp_devices=${JITP_DEVICES:-300} concurrency=${CONCURRENCY:-32} connect_for=${CONNECT_FOR:-2s}
  pubsub_for=${PUBSUB_FOR:-2s} fan=${FAN:-4} idle_conns=${IDLE_CONNS:-500}
else
  jitp_devices=${JITP_DEVICES:-20000} concurrency=${CONCURRENCY:-256} connect_for=${CONNECT_FOR:-8s}
  pubsub_for=${PUBSUB_FOR:-8s} fan=${FAN:-16} idle_conns=${IDLE_CONNS:-20000}
fi
# Both ends hold a descriptor per idle connection.
ulimit -n "$(ulimit -Hn)" 2> /dev/null || true
fd_limit=$(ulimit -n)
if [[ $fd_limit != unlimited ]] && ((idle_conns > fd_limit - 1000)); then
  log "open files limited to $fd_limit: holding $((fd_limit - 1000)) idle connections, not $idle_conns"
  idle_conns=$((fd_limit - 1000))
fi
secs() { echo "${1%s}"; } # 8s -> 8

{
  echo "date: $(date -u +%FT%TZ)"
  echo "cores: $cores"
  echo "cpu: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
  echo "memory: $(awk '/^MemTotal/ {print $2 " kB"}' /proc/meminfo)"
  echo "kernel: $(uname -r)"
  echo "iotcore: $("$bin" version 2> /dev/null || echo unknown)"
  echo "procs: $procs"
  echo "key_exchange: $key_exchange"
  echo "jitp_devices: $jitp_devices concurrency: $concurrency connect_for: $connect_for pubsub_for: $pubsub_for fan: $fan idle_conns: $idle_conns open_files: $fd_limit"
} > "$dir/machine.txt"
log "results in $dir"

server_pid=""
bench_pid=""
cleanup() {
  for p in $bench_pid $server_pid; do kill "$p" 2> /dev/null || true; done
  for p in $bench_pid $server_pid; do wait "$p" 2> /dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)

# start_server RUNDIR GOMAXPROCS: a fresh server; sets api, mqtt, pprof.
start_server() {
  local run=$1 gmp=$2 ports
  ports=$(python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
  read -r api mqtt pprof <<< "$ports"
  GOMAXPROCS=$gmp GODEBUG=gctrace=1 "$bin" serve --data-dir "$run/data" \
    --api-addr "127.0.0.1:$api" --mqtt-addr "127.0.0.1:$mqtt" --pprof-addr "127.0.0.1:$pprof" \
    --mqtt-publish-rate -1 --mqtt-connect-rate -1 --log-level warn > "$run/server.out" 2> "$run/server.err" &
  server_pid=$!
  for _ in $(seq 1 400); do
    grep -q endpoint-url "$run/server.out" 2> /dev/null && return 0
    kill -0 "$server_pid" 2> /dev/null || break
    sleep 0.05
  done
  die "iotcore serve did not start: $(tail -5 "$run/server.err")"
}

stop_server() {
  kill "$server_pid" 2> /dev/null || true
  wait "$server_pid" 2> /dev/null || true
  server_pid=""
}

# profile RUNDIR NAME SECONDS: CPU, mutex and block profiles over the next
# SECONDS, in the background.
# Their PIDs are in profile_pids.
profile_pids=()
profile() {
  local run=$1 name=$2 s=$3 base="http://127.0.0.1:$pprof/debug/pprof"
  mkdir -p "$run/profiles"
  profile_pids=()
  for p in profile mutex block; do
    curl -sf -o "$run/profiles/$name.$p.pb.gz" "$base/$p?seconds=$s" &
    profile_pids+=($!)
  done
}

# scenario RUNDIR NAME PROFILE_SECONDS BENCH_ARGS...: one `iotcore bench`
# run; its summary in NAME.json, the server's CPU ticks in NAME.cpu.
scenario() {
  local run=$1 name=$2 ps=$3 c0
  shift 3
  log "  $name"
  curl -sf -o "$run/$name.metrics-before.txt" "http://127.0.0.1:$api/metrics" || true
  c0=$(ticks "$server_pid")
  AWS_SHARED_CREDENTIALS_FILE=$run/data/credentials AWS_CONFIG_FILE=$run/no-config AWS_REGION=us-east-1 \
    "$bin" bench "$@" --endpoint "127.0.0.1:$mqtt" --setup --endpoint-url "http://127.0.0.1:$api" \
    --cafile "$run/data/ca.pem" --server-name localhost --key-exchange "$key_exchange" --json \
    > "$run/$name.json" 2> "$run/$name.err" &
  bench_pid=$!
  # The profiles start once the setup (a CA, the identities) is done.
  for _ in $(seq 1 600); do
    grep -qs "registered the CA" "$run/$name.err" && break
    kill -0 "$bench_pid" 2> /dev/null || break
    sleep 0.1
  done
  profile "$run" "$name" "$ps"
  wait "$bench_pid" || log "  $name failed: $(tail -3 "$run/$name.err")"
  bench_pid=""
  echo $(($(ticks "$server_pid") - c0)) > "$run/$name.cpu"
  curl -sf -o "$run/$name.metrics-after.txt" "http://127.0.0.1:$api/metrics" || true
  wait "${profile_pids[@]}" || true
}

for gmp in $procs; do
  run=$dir/gomaxprocs-$gmp
  rm -rf "$run" && mkdir -p "$run"
  log "server GOMAXPROCS=$gmp"

  # Idle first, while the server's memory is fresh: RSS before, once the
  # connections are established, and after two keep-alive rounds (a
  # PINGREQ every 15 s), which is what an idle fleet costs.
  start_server "$run" "$gmp"
  before=$(rss_kb "$server_pid")
  AWS_SHARED_CREDENTIALS_FILE=$run/data/credentials AWS_CONFIG_FILE=$run/no-config AWS_REGION=us-east-1 \
    "$bin" bench idle --connections "$idle_conns" --concurrency "$concurrency" --keepalive 30s --hold 40s \
    --endpoint "127.0.0.1:$mqtt" --setup --endpoint-url "http://127.0.0.1:$api" --cafile "$run/data/ca.pem" \
    --server-name localhost --key-exchange "$key_exchange" --json > "$run/idle.json" 2> "$run/idle.err" &
  bench_pid=$!
  log "  idle"
  for _ in $(seq 1 3000); do
    grep -qs "connections established" "$run/idle.err" && break
    kill -0 "$bench_pid" 2> /dev/null || break
    sleep 0.1
  done
  sleep 2 # the last connections settle
  established=$(rss_kb "$server_pid")
  sleep 33 # two PINGREQs from every connection
  echo "$before $established $(rss_kb "$server_pid")" > "$run/idle.rss"
  curl -sf -o "$run/idle.heap.pb.gz" "http://127.0.0.1:$pprof/debug/pprof/heap" || true
  curl -sf "http://127.0.0.1:$pprof/debug/pprof/heap?debug=1" | grep '^# ' > "$run/idle.memstats.txt" || true
  wait "$bench_pid" || log "  idle failed: $(tail -3 "$run/idle.err")"
  bench_pid=""
  stop_server

  start_server "$run" "$gmp"
  scenario "$run" jitp 10 jitp --devices "$jitp_devices" --concurrency "$concurrency"
  scenario "$run" connect "$(($(secs "$connect_for") - 1))" connect --concurrency "$concurrency" --duration "$connect_for"
  scenario "$run" fanin "$(($(secs "$pubsub_for") - 1))" pubsub --publishers "$fan" --subscribers 1 --qos 1 \
    --size 64 --topic '{cn}/bench/{i}' --duration "$pubsub_for" --drain 5s
  scenario "$run" fanout "$(($(secs "$pubsub_for") - 1))" pubsub --publishers 1 --subscribers "$fan" --qos 1 \
    --size 64 --topic '{cn}/bench/{i}' --duration "$pubsub_for" --drain 5s
  curl -sf -o "$run/goroutines.txt" "http://127.0.0.1:$pprof/debug/pprof/goroutine?debug=1" || true
  stop_server
  grep '^gc ' "$run/server.err" > "$run/gctrace.txt" || true
done

# The summary: one column per GOMAXPROCS.
python3 - "$dir" "$hz" $procs << 'EOF' > "$dir/summary.md"
import json, os, sys
d, hz, procs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def load(gmp, name):
    p = os.path.join(d, "gomaxprocs-" + gmp, name)
    try:
        with open(p) as f:
            return f.read()
    except OSError:
        return None

def summary(gmp, name):
    text = load(gmp, name + ".json")
    if not text:
        return None
    lines = [json.loads(l) for l in text.splitlines() if l.strip()]
    return lines[-1] if lines else None

def cpu_s(gmp, name):
    t = load(gmp, name + ".cpu")
    return int(t) / hz if t else None

rows = []
def row(label, fn):
    cells = []
    for g in procs:
        try:
            v = fn(g)
        except (TypeError, KeyError, ZeroDivisionError, ValueError):
            v = None
        cells.append("—" if v is None else v)
    rows.append("| %s | %s |" % (label, " | ".join(cells)))

def rate(name, key):
    return lambda g: "{:,.0f}".format(summary(g, name)[key])

def per(name, count_key, unit=1e3, fmt="{:.2f}"):
    return lambda g: fmt.format(cpu_s(g, name) * unit / summary(g, name)[count_key])

def idle_kib(at):
    def f(g):
        rss = list(map(int, load(g, "idle.rss").split()))
        return "{:.1f}".format((rss[at] - rss[0]) / summary(g, "idle")["established"])
    return f

row("JITP devices/s", rate("jitp", "devices_per_s"))
row("server CPU per JITP device (ms)", per("jitp", "provisioned"))
row("connects/s", rate("connect", "connects_per_s"))
row("server CPU per connect (ms)", per("connect", "connects"))
row("fan-in N->1 QoS 1, delivered/s", rate("fanin", "delivered_per_s"))
row("server CPU per fan-in message (us)", per("fanin", "delivered", 1e6, "{:.1f}"))
row("fan-out 1->N QoS 1, delivered/s", rate("fanout", "delivered_per_s"))
row("server CPU per fan-out message (us)", per("fanout", "delivered", 1e6, "{:.1f}"))
row("RSS per idle connection, established (KiB)", idle_kib(1))
row("RSS per idle connection, after keep-alives (KiB)", idle_kib(2))
row("idle connections held", lambda g: "{:,}".format(summary(g, "idle")["established"]))

with open(os.path.join(d, "machine.txt")) as f:
    print("```\n" + f.read().strip() + "\n```\n")
print("| server GOMAXPROCS | " + " | ".join(procs) + " |")
print("|---|" + "--:|" * len(procs))
print("\n".join(rows))
print("\nProfiles: gomaxprocs-*/profiles/SCENARIO.{profile,mutex,block}.pb.gz "
      "(go tool pprof iotcore FILE); GC traces: gomaxprocs-*/gctrace.txt.")
EOF
cat "$dir/summary.md"
