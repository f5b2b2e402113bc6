#!/usr/bin/env bash
# Seed 003 as AWS's JITR walkthrough ends it: a topic rule on
# $aws/events/certificates/registered/<caCertificateId> whose lambda action
# runs a function that activates the device's certificate and attaches a
# policy, so that the device's first connection registers it (and is
# dropped) and a later one publishes. The rule is created with the aws CLI
# from the walkthrough's JSON; the function is FUNCTION, from the server's
# --functions-dir.
#
# Environment: AWS, ENDPOINT, AWS_SHARED_CREDENTIALS_FILE, ACCOUNT_ID, REGION,
# MQTT_HOST, MQTT_PORT, ROOT_CA, FUNCTION. Runs in an empty directory.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# The CA, with proof of possession, active and auto-registering.
openssl genrsa -out sampleCACertificate.key 2048 2>/dev/null
openssl req -x509 -new -nodes -key sampleCACertificate.key -sha256 -days 365 -out sampleCACertificate.pem -subj "/C=US/O=Example/CN=Sample JITR CA"
code=$(iot get-registration-code | field registrationCode)
openssl genrsa -out privateKeyVerification.key 2048 2>/dev/null
openssl req -new -key privateKeyVerification.key -out privateKeyVerification.csr -subj "/CN=$code"
openssl x509 -req -in privateKeyVerification.csr -CA sampleCACertificate.pem -CAkey sampleCACertificate.key -CAcreateserial -out privateKeyVerification.crt -days 365 -sha256 2>/dev/null
ca_id=$(iot register-ca-certificate --ca-certificate file://sampleCACertificate.pem --verification-certificate file://privateKeyVerification.crt | field certificateId)
iot update-ca-certificate --certificate-id "$ca_id" --new-status ACTIVE
iot update-ca-certificate --certificate-id "$ca_id" --new-auto-registration-status ENABLE

# The walkthrough's rule.
cat > rule.json <<JSON
{
  "sql": "SELECT * FROM '\$aws/events/certificates/registered/$ca_id'",
  "description": "Activates the certificates that the CA's devices register just in time",
  "ruleDisabled": false,
  "awsIotSqlVersion": "2016-03-23",
  "actions": [{
    "lambda": {
      "functionArn": "arn:aws:lambda:$REGION:$ACCOUNT_ID:function:$FUNCTION"
    }
  }]
}
JSON
iot create-topic-rule --rule-name JITRActivation --topic-rule-payload file://rule.json
pattern=$(iot list-topic-rules | field rules.0.topicPattern)
[[ $pattern == "\$aws/events/certificates/registered/$ca_id" ]] || fail "topicPattern $pattern"

# A device certificate from that CA; the function's policy lets the device
# connect as its certificate id and publish on foo/bar/<certificate id>.
openssl genrsa -out device.key 2048 2>/dev/null
openssl req -new -key device.key -out device.csr -subj "/CN=jitr-rule-device"
openssl x509 -req -in device.csr -CA sampleCACertificate.pem -CAkey sampleCACertificate.key -CAcreateserial -out device.crt -days 365 -sha256 2>/dev/null
cat device.crt sampleCACertificate.pem > deviceAndCA.crt
cert_id=$(openssl x509 -in device.crt -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
pub() { mosquitto_pub --cafile "$ROOT_CA" -h "$MQTT_HOST" -p "$MQTT_PORT" -q 1 --cert deviceAndCA.crt --key device.key -i "$cert_id" -t "foo/bar/$cert_id" -m hello; }

# The first connection registers the certificate and is dropped.
if pub > pub.log 2>&1; then fail "the first connection got in: $(cat pub.log)"; fi
# The rule's function activates it; the device retries until it publishes.
for i in $(seq 1 120); do
  if pub > pub.log 2>&1; then break; fi
  ((i < 120)) || fail "the device never got in: $(cat pub.log)"
  sleep 0.5
done
echo "published after $i retries"
[[ $(iot describe-certificate --certificate-id "$cert_id" | field certificateDescription.status) == ACTIVE ]] || fail "not ACTIVE"
[[ $(iot list-attached-policies --target "arn:aws:iot:$REGION:$ACCOUNT_ID:cert/$cert_id" | field policies.0.policyName) == "Policy_$cert_id" ]] || fail "no policy attached"
echo "CERTIFICATE_ID=$cert_id"
echo "seed 003 by rule passed"
