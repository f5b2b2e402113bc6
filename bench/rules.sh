#!/usr/bin/env bash
# bench/rules.sh: what the rules engine costs the device path. QoS 0 fan-in
# (4 publishers, 1 subscriber, 64-byte payloads) against iotcore serve
# with no rules; with 10 rules whose FROM matches nothing the publishers
# send; and with those 10 plus one that matches every message and
# republishes it; then the first two again, in reverse, so that the drift
# of one server over the runs shows beside the rules' cost. Prints a Markdown table of delivered msgs/s, server CPU
# per delivered message and the engine's counters.
#
# Usage: bench/rules.sh [--duration 10s] [DIR]
set -euo pipefail
duration=10s
if [[ ${1:-} == --duration ]]; then duration=$2; shift 2; fi
dir=$(realpath -m "${1:-/tmp/iotcore-bench-rules}")
repo=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
log() { echo "rules: $*" >&2; }
go -C "$repo" build -o "$dir/iotcore" ./cmd/iotcore
read -r api_port iot_port < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
pid=""
trap '[[ -z $pid ]] || { kill $pid; wait $pid; } 2>/dev/null || true' EXIT
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL
export AWS_SHARED_CREDENTIALS_FILE=$dir/data/credentials AWS_CONFIG_FILE=/dev/null AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
aws_iot() { aws --endpoint-url "http://127.0.0.1:$api_port" --output json iot "$@"; }
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
hz=$(getconf CLK_TCK)

./iotcore serve --data-dir data --api-addr "127.0.0.1:$api_port" --mqtt-addr "127.0.0.1:$iot_port" \
  --mqtt-publish-rate -1 --mqtt-connect-rate -1 --log-level warn > serve.out 2> serve.err &
pid=$!
for _ in $(seq 1 200); do grep -q endpoint-url serve.out 2>/dev/null && break; sleep 0.05; done

rule() { # rule NAME SQL TOPIC
  printf '{"sql":"%s","actions":[{"republish":{"topic":"%s","roleArn":"arn:aws:iam::123456789012:role/bench"}}]}' "$2" "$3" > rule.json
  aws_iot create-topic-rule --rule-name "$1" --topic-rule-payload file://rule.json
}
run() { # run NAME
  local c0 c1
  c0=$(cpu_ticks $pid)
  ./iotcore bench pubsub --endpoint "127.0.0.1:$iot_port" --setup --endpoint-url "http://127.0.0.1:$api_port" \
    --cafile data/ca.pem --server-name localhost --json --publishers 4 --subscribers 1 --qos 0 --size 64 \
    --topic '{cn}/bench/{i}' --duration "$duration" --drain 2s > "$1.json" 2> "$1.err"
  c1=$(cpu_ticks $pid)
  python3 - "$1" "$((c1 - c0))" "$hz" << 'PY'
import json, sys
name, ticks, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = json.loads(open(name + ".json").readline())
d = s["delivered"]
print("| %s | %s | %.1f µs | %.2f%% |" % (name, format(round(s["delivered_per_s"]), ","), ticks / hz / d * 1e6 if d else 0, s.get("loss_percent", 0)))
PY
}
stats() { curl -s "http://127.0.0.1:$api_port/metrics" | grep -E '^iotcore_rules_(messages|matched|dropped)_total' | tr '\n' ' '; echo; }

echo "| rules | delivered msgs/s | server CPU per delivered msg | lost |"
echo "|---|--:|--:|--:|"
run "none"
for i in $(seq 1 10); do rule "nomatch$i" "SELECT * FROM 'elsewhere/$i/+'" "out/$i"; done
run "10 not matching"
rule "matching" "SELECT * FROM '+/bench/+'" 'republished/${topic(1)}'
run "10 + 1 matching, republishing"
aws_iot delete-topic-rule --rule-name matching
run "10 not matching, again"
for i in $(seq 1 10); do aws_iot delete-topic-rule --rule-name "nomatch$i"; done
run "none, again"
log "engine: $(stats)"
