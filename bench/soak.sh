#!/usr/bin/env bash
# 10-minute soak: reconnect storm + QoS 0/1 traffic against iotcore, sampling
# goroutines and RSS every 30 s.
set -u
# Usage: bench/soak.sh [DIR] — results (samples.log, *.json) go to DIR
# (default: a new temporary directory).
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$(mktemp -d)}
mkdir -p "$dir" && go -C "$repo" build -o "$dir/iotcore" ./cmd/iotcore || exit 1
cd "$dir" && rm -rf data
echo "soak: results in $dir" >&2
./iotcore serve --data-dir data --api-addr 127.0.0.1:19180 --mqtt-addr 127.0.0.1:19183 \
  --mqtt-publish-rate -1 --mqtt-connect-rate -1 --log-level warn > serve.out 2> serve.err &
srv=$!
for _ in $(seq 1 100); do grep -q endpoint-url serve.out 2>/dev/null && break; sleep 0.1; done
export AWS_SHARED_CREDENTIALS_FILE=$PWD/data/credentials AWS_REGION=us-east-1
common=(--endpoint 127.0.0.1:19183 --server-name localhost --cafile data/ca.pem --setup --endpoint-url http://127.0.0.1:19180 --json)
sample() {
  while kill -0 $srv 2>/dev/null; do
    g=$(curl -s http://127.0.0.1:19180/metrics | awk '/^go_goroutines /{print $2}')
    r=$(awk '/VmRSS/{print $2}' /proc/$srv/status)
    c=$(curl -s http://127.0.0.1:19180/metrics | awk '/^iotcore_mqtt_connections /{print $2}')
    echo "$(date +%s) goroutines=$g rss_kb=$r connections=$c"
    sleep 30
  done
}
sample > samples.log &
smp=$!
./iotcore bench connect "${common[@]}" --concurrency 8 --duration 10m > connect.json 2> connect.err &
c=$!
./iotcore bench pubsub "${common[@]}" --publishers 4 --subscribers 2 --qos 0,1 --rate 2000 --duration 295s > pubsub.json 2> pubsub.err &
p=$!
./iotcore bench jitp "${common[@]}" --devices 3000 --concurrency 8 > jitp.json 2> jitp.err &
j=$!
wait $c $p $j
sleep 30  # let the server settle before the last samples
curl -s http://127.0.0.1:19180/metrics | grep -E "^iotcore_(mqtt_(connections|messages|kicked|engine|inflight|qos1)|provisioning)" > final_metrics.txt
kill $smp; kill -TERM $srv; wait $srv; echo "serve exit $?" >> samples.log
