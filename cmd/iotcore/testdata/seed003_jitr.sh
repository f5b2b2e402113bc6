#!/usr/bin/env bash
# Seed 003 (just-in-time registration) against iotcore: a CA registered with
# proof of possession and activated with the aws CLI; auto-registration turns
# a new device certificate into PENDING_ACTIVATION with an event on
# $aws/events/certificates/registered/<caCertificateId>, sent again at every
# reconnect; activation by the aws CLI (what the seed's Lambda does) lets a
# Python paho device in; revoking its certificate disconnects it at once.
#
# Environment: AWS, ENDPOINT, AWS_SHARED_CREDENTIALS_FILE, ACCOUNT_ID, REGION,
# MQTT_HOST, MQTT_PORT, ROOT_CA, DEVICE_PY. Runs in an empty directory.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# The seed's commands (the interactive subject given with -subj).
openssl genrsa -out sampleCACertificate.key 2048 2>/dev/null
openssl req -x509 -new -nodes -key sampleCACertificate.key -sha256 -days 365 -out sampleCACertificate.pem -subj "/C=US/O=Example/CN=Sample JITR CA"
code=$(iot get-registration-code | field registrationCode)
openssl genrsa -out privateKeyVerification.key 2048 2>/dev/null
openssl req -new -key privateKeyVerification.key -out privateKeyVerification.csr -subj "/CN=$code"
openssl x509 -req -in privateKeyVerification.csr -CA sampleCACertificate.pem -CAkey sampleCACertificate.key -CAcreateserial -out privateKeyVerification.crt -days 365 -sha256 2>/dev/null
ca_id=$(iot register-ca-certificate --ca-certificate file://sampleCACertificate.pem --verification-certificate file://privateKeyVerification.crt | field certificateId)
[[ $(iot describe-ca-certificate --certificate-id "$ca_id" | field certificateDescription.status) == INACTIVE ]] || fail "a new CA must be INACTIVE"
iot update-ca-certificate --certificate-id "$ca_id" --new-status ACTIVE
iot update-ca-certificate --certificate-id "$ca_id" --new-auto-registration-status ENABLE

# An observer on the registration topic (an admin certificate, as a rule would be).
iot create-keys-and-certificate --set-as-active --certificate-pem-outfile observer.crt --private-key-outfile observer.key > observer.json
iot create-policy --policy-name observer --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}' >/dev/null
iot attach-policy --policy-name observer --target "$(field certificateArn < observer.json)"
mosquitto_sub --cafile "$ROOT_CA" -h "$MQTT_HOST" -p "$MQTT_PORT" --cert observer.crt --key observer.key -i observer -q 1 \
  -t "\$aws/events/certificates/registered/$ca_id" -C 2 -W 60 > events.txt 2> sub.err &
sub=$!

# A device certificate from that CA.
openssl genrsa -out device.key 2048 2>/dev/null
openssl req -new -key device.key -out device.csr -subj "/CN=jitr-device-1"
openssl x509 -req -in device.csr -CA sampleCACertificate.pem -CAkey sampleCACertificate.key -CAcreateserial -out device.crt -days 365 -sha256 2>/dev/null
cat device.crt sampleCACertificate.pem > deviceAndCA.crt
cert_id=$(openssl x509 -in device.crt -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
pub() { mosquitto_pub --cafile "$ROOT_CA" -h "$MQTT_HOST" -p "$MQTT_PORT" -q 1 --cert deviceAndCA.crt --key device.key -i jitr-device-1 -t jitr-device-1/hello -m hi "$@"; }

# The first connection registers the certificate and is dropped; every retry
# while it is pending sends the event again. Retry until the observer has two.
for _ in $(seq 1 100); do
  if pub > pub.log 2>&1; then fail "a PENDING_ACTIVATION device got in: $(cat pub.log)"; fi
  kill -0 $sub 2>/dev/null || break
  sleep 0.1
done
wait $sub || fail "the observer did not get two registration events: $(cat events.txt sub.err)"
[[ $(iot describe-certificate --certificate-id "$cert_id" | field certificateDescription.status) == PENDING_ACTIVATION ]] || fail "not PENDING_ACTIVATION"
event=$(head -1 events.txt)
[[ $(echo "$event" | field certificateId) == "$cert_id" && $(echo "$event" | field caCertificateId) == "$ca_id" ]] || fail "event: $event"
[[ $(echo "$event" | field certificateStatus) == PENDING_ACTIVATION && $(echo "$event" | field awsAccountId) == "$ACCOUNT_ID" ]] || fail "event: $event"
echo "registration event: $event"

# Activation, as the seed's Lambda does it.
cert_arn="arn:aws:iot:$REGION:$ACCOUNT_ID:cert/$cert_id"
iot update-certificate --certificate-id "$cert_id" --new-status ACTIVE
iot create-policy --policy-name jitr-device --policy-document "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"iot:Connect\"],\"Resource\":[\"arn:aws:iot:$REGION:$ACCOUNT_ID:client/\${iot:ClientId}\"]},{\"Effect\":\"Allow\",\"Action\":[\"iot:Publish\",\"iot:Receive\"],\"Resource\":[\"arn:aws:iot:$REGION:$ACCOUNT_ID:topic/\${iot:ClientId}/*\"]},{\"Effect\":\"Allow\",\"Action\":[\"iot:Subscribe\"],\"Resource\":[\"arn:aws:iot:$REGION:$ACCOUNT_ID:topicfilter/\${iot:ClientId}/*\"]}]}" >/dev/null
iot attach-policy --policy-name jitr-device --target "$cert_arn"

# A live Python paho device; revoking its certificate disconnects it.
/usr/bin/python3 "$DEVICE_PY" --host "$MQTT_HOST" --port "$MQTT_PORT" --cafile "$ROOT_CA" --cert device.crt --key device.key \
  --client-id jitr-device-1 --topic jitr-device-1/hello > device.log 2>&1 &
dev=$!
waitfor device.log "received hello from paho"
iot update-certificate --certificate-id "$cert_id" --new-status REVOKED
wait $dev || fail "the device was not disconnected on revocation: $(cat device.log)"
echo "device: $(tr '\n' ' ' < device.log)"
if pub > pub.log 2>&1; then fail "a REVOKED device got in: $(cat pub.log)"; fi
echo "seed 003 passed"
