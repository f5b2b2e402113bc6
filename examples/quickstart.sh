#!/usr/bin/env bash
# AWS's JITP walkthrough ("How can I use JITP with AWS IoT Core?"), end to end,
# with `iotcore pki` in place of openssl: a root CA, its registration with the
# walkthrough's template, a device certificate, and mosquitto_pub connecting as
# the device. The first connection is dropped (the device is provisioned
# meanwhile, as on AWS), the second publishes, and an observer subscribed with
# mosquitto_sub receives the message. Exits 0 only then.
#
# Self-contained: it builds iotcore (or uses $IOTCORE), starts its own server
# on free ports in a temporary directory, and stops it on exit.
#
#   examples/quickstart.sh            # needs go, aws, mosquitto_pub, mosquitto_sub
#   IOTCORE=/path/to/iotcore examples/quickstart.sh
#
# Set KEEP=1 to keep the temporary directory (certificates, server log).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf '\n== %s\n' "$*"; }
fail() { echo "quickstart: FAIL: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || fail "$1 is required ($2)"; }
need aws "Debian: apt-get install awscli"
need mosquitto_pub "Debian: apt-get install mosquitto-clients"
need mosquitto_sub "Debian: apt-get install mosquitto-clients"

work=$(mktemp -d "${TMPDIR:-/tmp}/iotcore-quickstart.XXXXXX")
server=""
sub=""
cleanup() {
  status=$?
  for pid in $sub $server; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if ((status != 0)) && [[ -f $work/serve.log ]]; then
    echo "--- server log (last lines):" >&2
    tail -n 20 "$work/serve.log" >&2
  fi
  if [[ ${KEEP:-} == 1 ]]; then echo "quickstart: kept $work" >&2; else rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -z ${IOTCORE:-} ]]; then
  need go "https://go.dev/dl"
  say "building iotcore"
  (cd "$repo" && go build -o "$work/iotcore" ./cmd/iotcore)
  IOTCORE=$work/iotcore
fi

say "starting iotcore serve in $work (the walkthrough's policy names us-east-2)"
"$IOTCORE" serve --data-dir "$work/data" --api-addr 127.0.0.1:0 --mqtt-addr 127.0.0.1:0 --region us-east-2 \
  > "$work/serve.out" 2> "$work/serve.log" &
server=$!
for _ in $(seq 1 600); do
  grep -q -- '--endpoint-url' "$work/serve.out" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || fail "iotcore serve exited: $(cat "$work/serve.log")"
  sleep 0.1
done
endpoint=$(sed -n 's/.*--endpoint-url \(http:[^ ]*\).*/\1/p' "$work/serve.out")
mqtt=$(sed -n 's/.*--mqtt-addr \([^ ]*\),.*/\1/p' "$work/serve.out")
[[ -n $endpoint && -n $mqtt ]] || fail "no endpoint in the server's output: $(cat "$work/serve.out")"
mqtt_host=${mqtt%:*}
mqtt_port=${mqtt##*:}
echo "API $endpoint, MQTT $mqtt"

# The aws CLI and `iotcore ca register` use the server's credentials, and nothing else.
export AWS_SHARED_CREDENTIALS_FILE=$work/data/credentials AWS_CONFIG_FILE=/dev/null AWS_PAGER="" AWS_REGION=us-east-2 AWS_DEFAULT_REGION=us-east-2
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL
awsiot() { aws --endpoint-url "$endpoint" iot "$@"; }
cd "$work"

say "1. a root CA (as in the walkthrough: C=IN, O=AMZ)"
"$IOTCORE" pki ca create --name deviceRootCA --c IN --o AMZ --cn "Quickstart Root CA"

say "2. register it with the walkthrough's JITP template: registration code, verification certificate, register"
"$IOTCORE" ca register --endpoint-url "$endpoint" --ca-cert deviceRootCA.pem --ca-key deviceRootCA.key \
  --template-file "$repo/examples/jitp_template.json"

say "3. the device certificate: CN=DemoThing (the thing name), C=IN, and the device+CA chain"
"$IOTCORE" pki device-cert --ca deviceRootCA.pem --ca-key deviceRootCA.key --cn DemoThing --c IN

say "4. an observer, as the AWS console's test client: a server-issued certificate allowed everything"
awsiot create-keys-and-certificate --set-as-active --certificate-pem-outfile observer.crt \
  --private-key-outfile observer.key --query certificateArn --output text > observer.arn
awsiot create-policy --policy-name quickstart-observer \
  --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}' >/dev/null
awsiot attach-policy --policy-name quickstart-observer --target "$(cat observer.arn)"
mosquitto_sub --cafile data/ca.pem -h "$mqtt_host" -p "$mqtt_port" --cert observer.crt --key observer.key \
  -i observer -q 1 -t DemoThing/test -C 1 -W 60 > received.txt 2> sub.err &
sub=$!

pub() { mosquitto_pub --cafile data/ca.pem -h "$mqtt_host" -p "$mqtt_port" -q 1 --tls-version tlsv1.2 "$@"; }

say "5. the device's first connection: provisioned, then dropped (as on AWS)"
if pub --cert device-chain.crt --key device.key -t foo/bar -i anyclientID -m Hello -d > first.log 2>&1; then
  fail "the first connection was not dropped: $(cat first.log)"
fi
cat first.log
[[ $(awsiot describe-thing --thing-name DemoThing --query thingName --output text) == DemoThing ]] || fail "DemoThing was not provisioned"

say "6. from now on DemoThing publishes under DemoThing/ (until the observer has the message)"
for _ in $(seq 1 100); do
  pub --cert device.crt --key device.key -t DemoThing/test -i DemoThing -m Hello -d > second.log 2>&1 ||
    fail "DemoThing could not publish: $(cat second.log)"
  kill -0 "$sub" 2>/dev/null || break
  sleep 0.2
done
cat second.log
wait "$sub" || fail "the observer received nothing: $(cat sub.err)"
sub=""
[[ $(cat received.txt) == Hello ]] || fail "the observer received $(cat received.txt)"

say "quickstart passed: DemoThing was provisioned on its first connection, and its message received"
awsiot describe-thing --thing-name DemoThing --output json
