#!/usr/bin/env bash
# iotcore on one machine three ways, with `iotcore bench`: one node on
# SQLite (the default), one node on PostgreSQL, and two nodes on PostgreSQL
# joined over NATS. For each: just-in-time provisioning (devices/s, server
# CPU per device) and fan-in publish/subscribe at QoS 0 and 1 (delivered
# msgs/s, latency); for the cluster, with the subscriber on the other node
# than the publishers (every message crosses nodes). PostgreSQL is a
# temporary cluster made with Debian's initdb/pg_ctl (as the postgres user
# when run as root), NATS Debian's nats-server. Prints a Markdown table.
#
# Usage: bench/cluster.sh [--quick] [--bin PATH] [DIR]
#   --bin  an iotcore binary to measure instead of building one (to carry
#          the script to a machine without Go, as bench/scale.sh is)
# Environment: COMMITTERS, the --database-committers values to measure one
# node on PostgreSQL with (default 1; "1 2 4" on a many-core machine says
# whether more transactions at once pay for their conflicts there).
set -euo pipefail

quick=false
bin=""
dir=""
while (($#)); do
  case $1 in
    --quick) quick=true ;;
    --bin) bin=$2; shift ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) dir=$1 ;;
  esac
  shift
done
if $quick; then devices=300 pubsub_for=2s; else devices=2000 pubsub_for=10s; fi

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${dir:-$(mktemp -d -t iotcore-cluster.XXXXXX)}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
log() { echo "cluster: $*" >&2; }
die() { echo "cluster: $*" >&2; exit 1; }
PATH=$PATH:/usr/sbin:/usr/local/go/bin
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -1)
[[ -x $pgbin/initdb ]] || die "no PostgreSQL: apt-get install -y postgresql"
command -v nats-server > /dev/null || die "no nats-server: apt-get install -y nats-server"
command -v curl > /dev/null || die "curl is not on PATH"

if [[ -n $bin ]]; then
  [[ -x $bin ]] || die "--bin $bin: not an executable"
  cp "$bin" "$dir/iotcore"
else
  log "building iotcore into $dir"
  go -C "$repo" build -o "$dir/iotcore" ./cmd/iotcore
fi
cd "$dir"
rm -rf pg nodes results && mkdir -p pg nodes results

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null || true; done
  as_pg "$pgbin/pg_ctl" -D "$dir/pg/data" -m immediate stop > /dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r pg_port nats_port < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')

# PostgreSQL, as the postgres user when root (it refuses to run as root).
as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[[ $(id -u) == 0 ]] && chown postgres "$dir/pg" && chmod o+x "$dir"
as_pg "$pgbin/initdb" -D "$dir/pg/data" -U iotcore --auth=trust --encoding=UTF8 > pg/initdb.log
as_pg "$pgbin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $dir/pg -c max_connections=200" start > /dev/null
for db in single cluster; do
  "$pgbin/createdb" -h 127.0.0.1 -p "$pg_port" -U iotcore "$db"
done
pg_url() { echo "postgres://iotcore@127.0.0.1:$pg_port/$1?sslmode=disable"; }

nats-server -a 127.0.0.1 -p "$nats_port" > nats.log 2>&1 &
pids+=($!)

# start_node NAME [ARGS...]: iotcore serve in nodes/NAME, without AWS's rate
# limits (they would throttle a load generator on one machine); sets
# api_NAME, mqtt_NAME, pid_NAME.
start_node() {
  local name=$1
  shift
  mkdir -p "nodes/$name"
  ./iotcore serve --data-dir "nodes/$name" --api-addr 127.0.0.1:0 --mqtt-addr 127.0.0.1:0 \
    --mqtt-publish-rate -1 --mqtt-connect-rate -1 --log-level warn "$@" > "nodes/$name.out" 2> "nodes/$name.err" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 200); do
    grep -q -- --endpoint-url "nodes/$name.out" 2> /dev/null && break
    kill -0 "$pid" 2> /dev/null || die "node $name did not start: $(tail -3 "nodes/$name.err")"
    sleep 0.05
  done
  printf -v "api_$name" '%s' "$(sed -n 's/.*--endpoint-url \(http:[^ ]*\).*/\1/p' "nodes/$name.out")"
  printf -v "mqtt_$name" '%s' "$(sed -n 's/.*--mqtt-addr \([^ ]*\),.*/\1/p' "nodes/$name.out")"
  printf -v "pid_$name" '%s' "$pid"
}

# cpu PID: the process's user+system CPU so far, in seconds.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }

# pg_cpu: PostgreSQL's CPU so far, in seconds: the postmaster, its live
# backends, and the backends that have exited (their CPU is the
# postmaster's children's).
pg_cpu() {
  local pm
  pm=$(head -1 "$dir/pg/data/postmaster.pid")
  awk -v hz="$(getconf CLK_TCK)" -v pm="$pm" '
    { pid = $1; ppid = $4 }
    pid == pm { t += $14 + $15 + $16 + $17 }
    ppid == pm { t += $14 + $15 }
    END { printf "%.3f", t / hz }' /proc/[0-9]*/stat 2> /dev/null
}

# bench NAME NODE ARGS...: iotcore bench against NODE, JSON lines into results/NAME.json.
bench() {
  local name=$1 node=$2
  shift 2
  local api mqtt
  api=api_$node mqtt=mqtt_$node
  AWS_SHARED_CREDENTIALS_FILE="nodes/$node/credentials" ./iotcore bench "$@" --endpoint "${!mqtt}" \
    --cafile "nodes/$node/ca.pem" --setup --endpoint-url "${!api}" --region us-east-1 --json > "results/$name.json"
}

field() { python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(*[eval(sys.argv[2], {}, x) for x in r])" "$@"; }

# retries NODE: the conflicts NODE ran updates again for so far (0 on SQLite).
retries() {
  local api=api_$1
  { curl -sf "${!api}/metrics" || true; } | awk '/^iotcore_database_retries_total / {n = $2} END {printf "%d", n}'
}

rows=()
# measure LABEL NODE... : JITP on each node at once (devices split between
# them), then pubsub publishers on the first node, subscriber on the last.
measure() {
  local label=$1
  shift
  local nodes=("$@") n=${#nodes[@]} before=0 after=0 pg_before pg_after node pid retries_before=0 retries_after=0
  for node in "${nodes[@]}"; do pid=pid_$node; before=$(echo "$before + $(cpu "${!pid}")" | bc); done
  for node in "${nodes[@]}"; do retries_before=$((retries_before + $(retries "$node"))); done
  pg_before=$(pg_cpu)
  local bpids=()
  for node in "${nodes[@]}"; do
    bench "jitp-$label-$node" "$node" jitp --devices $((devices / n)) --concurrency 32 &
    bpids+=($!)
  done
  for p in "${bpids[@]}"; do wait "$p"; done
  for node in "${nodes[@]}"; do pid=pid_$node; after=$(echo "$after + $(cpu "${!pid}")" | bc); done
  for node in "${nodes[@]}"; do retries_after=$((retries_after + $(retries "$node"))); done
  pg_after=$(pg_cpu)
  local rate=0 provisioned=0 p50 p99
  for node in "${nodes[@]}"; do
    rate=$(echo "$rate + $(field "results/jitp-$label-$node.json" 'devices_per_s')" | bc)
    provisioned=$((provisioned + $(field "results/jitp-$label-$node.json" 'provisioned')))
  done
  p50=$(field "results/jitp-$label-${nodes[0]}.json" 'latency_ms["p50"]')
  p99=$(field "results/jitp-$label-${nodes[0]}.json" 'latency_ms["p99"]')
  local cpu_ms pg_ms
  cpu_ms=$(echo "scale=2; ($after - $before) * 1000 / $provisioned" | bc)
  pg_ms=$(echo "scale=2; ($pg_after - $pg_before) * 1000 / $provisioned" | bc)
  local sub_node=${nodes[$((n - 1))]} sub
  sub=mqtt_$sub_node
  bench "pubsub-$label" "${nodes[0]}" pubsub --qos 0,1 --publishers 4 --subscribers 1 --duration "$pubsub_for" --sub-endpoint "${!sub}"
  local q0 q1 l0 l1
  read -r q0 q1 < <(field "results/pubsub-$label.json" 'round(delivered_per_s)')
  read -r l0 l1 < <(field "results/pubsub-$label.json" 'latency_ms["p50"]')
  local loss
  loss=$(field "results/pubsub-$label.json" 'lost' | tr ' ' '+' | bc)
  # Below saturation: 4 publishers at 250 msgs/s each, QoS 1.
  bench "paced-$label" "${nodes[0]}" pubsub --qos 1 --publishers 4 --subscribers 1 --rate 250 --duration "$pubsub_for" --sub-endpoint "${!sub}"
  local pp50 pp99
  pp50=$(field "results/paced-$label.json" 'latency_ms["p50"]')
  pp99=$(field "results/paced-$label.json" 'latency_ms["p99"]')
  rows+=("| $label | $(printf %.0f "$rate") | $(printf '%.0f / %.0f' "$p50" "$p99") | $cpu_ms + $pg_ms | $q0 ($(printf %.1f "$l0") ms) | $q1 ($(printf %.1f "$l1") ms) | $(printf '%.2f / %.2f' "$pp50" "$pp99") | $loss |")
  log "$label: $(printf %.0f "$rate") devices/s, $cpu_ms ms iotcore + $pg_ms ms PostgreSQL CPU/device, $(echo "scale=2; ($retries_after - $retries_before) / $provisioned" | bc) conflicts/device; pubsub QoS 0 $q0/s, QoS 1 $q1/s, lost $loss"
}

log "one node on SQLite"
start_node sqlite
measure "1 node, SQLite" sqlite
kill "$pid_sqlite"

committers=${COMMITTERS:-1}
for c in $committers; do
  log "one node on PostgreSQL, $c committer(s)"
  start_node "pg$c" --database-url "$(pg_url single)" --database-committers "$c"
  label="1 node, PostgreSQL"
  if [[ $committers != 1 ]]; then
    label+=", $c committer"
    ((c == 1)) || label+="s"
  fi
  measure "$label" "pg$c"
  pid=pid_pg$c
  kill "${!pid}"
done

log "two nodes on PostgreSQL + NATS"
start_node a --database-url "$(pg_url cluster)" --cluster-url "nats://127.0.0.1:$nats_port"
mkdir -p nodes/b
for f in credentials ca.pem ca.key server.pem server.key service-ca.pem service-ca.key; do cp -p "nodes/a/$f" "nodes/b/$f"; done
start_node b --database-url "$(pg_url cluster)" --cluster-url "nats://127.0.0.1:$nats_port"
measure "2 nodes, PostgreSQL + NATS (subscriber on the other node)" a b

{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)), GOMAXPROCS unset, client and servers on the same machine; $devices JITP devices (concurrency 32 per node), fan-in 4 publishers to 1 subscriber for $pubsub_for per QoS, as fast as the server takes them, then paced at 250 msgs/s per publisher."
  echo
  echo "| setup | JITP devices/s | JITP latency p50 / p99 (ms) | CPU per JITP device, iotcore + PostgreSQL (ms) | QoS 0 delivered/s (latency p50) | QoS 1 delivered/s (latency p50) | QoS 1 at 1,000 msgs/s: latency p50 / p99 (ms) | messages lost |"
  echo "|---|--:|--:|--:|--:|--:|--:|--:|"
  printf '%s\n' "${rows[@]}"
} | tee results/table.md
