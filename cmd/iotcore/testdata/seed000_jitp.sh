#!/usr/bin/env bash
# Seed 000 as written, against iotcore: openssl makes the CA and the device
# certificate, the aws CLI registers the CA with the seed's JITP template, and
# mosquitto_pub connects with the device+CA chain: the first connection is
# dropped, the second succeeds, and the thing and policy exist as the template
# says. Only the endpoint differs (-h/-p, --endpoint-url, and ca.pem in place
# of AmazonRootCA1).
#
# Environment: AWS, ENDPOINT, AWS_SHARED_CREDENTIALS_FILE, ACCOUNT_ID,
# MQTT_HOST, MQTT_PORT, ROOT_CA (the server's ca.pem). Runs in an empty directory.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cp "$ROOT_CA" awsRootCA.pem

# Root CA and verification certificate (seed 000, non-interactive).
openssl genrsa -out deviceRootCA.key 2048 2>/dev/null
printf '[ req ]\ndistinguished_name = req_distinguished_name\nextensions = v3_ca\nreq_extensions = v3_ca\n[ v3_ca ]\nbasicConstraints = CA:TRUE\n[ req_distinguished_name ]\n' > deviceRootCA_openssl.conf
openssl req -new -sha256 -key deviceRootCA.key -nodes -out deviceRootCA.csr -config deviceRootCA_openssl.conf -subj "/C=IN/O=AMZ"
openssl x509 -req -days 3650 -extfile deviceRootCA_openssl.conf -extensions v3_ca -in deviceRootCA.csr -signkey deviceRootCA.key -out deviceRootCA.pem 2>/dev/null
code=$(iot get-registration-code --region us-east-2 | field registrationCode)
openssl genrsa -out verificationCert.key 2048 2>/dev/null
openssl req -new -key verificationCert.key -out verificationCert.csr -subj "/CN=$code"
openssl x509 -req -in verificationCert.csr -CA deviceRootCA.pem -CAkey deviceRootCA.key -CAcreateserial -out verificationCert.crt -days 500 -sha256 2>/dev/null

# The seed's first template (scoped policy), verbatim but for the account id.
cat > jitp_template.json <<'JSON'
{
 "templateBody":"{ \"Parameters\" : { \"AWS::IoT::Certificate::CommonName\" : { \"Type\" : \"String\" },\"AWS::IoT::Certificate::Country\" : { \"Type\" : \"String\" }, \"AWS::IoT::Certificate::Id\" : { \"Type\" : \"String\" }}, \"Resources\" : { \"thing\" : { \"Type\" : \"AWS::IoT::Thing\", \"Properties\" : { \"ThingName\" : {\"Ref\" : \"AWS::IoT::Certificate::CommonName\"}, \"AttributePayload\" : { \"version\" : \"v1\", \"country\" : {\"Ref\" : \"AWS::IoT::Certificate::Country\"}} } }, \"certificate\" : { \"Type\" : \"AWS::IoT::Certificate\", \"Properties\" : { \"CertificateId\": {\"Ref\" : \"AWS::IoT::Certificate::Id\"}, \"Status\" : \"ACTIVE\" } }, \"policy\" : {\"Type\" : \"AWS::IoT::Policy\", \"Properties\" : { \"PolicyDocument\" : \"{ \\\"Version\\\": \\\"2012-10-17\\\", \\\"Statement\\\": [ { \\\"Effect\\\": \\\"Allow\\\", \\\"Action\\\": [ \\\"iot:Connect\\\" ], \\\"Resource\\\": [ \\\"arn:aws:iot:us-east-2:<ACCOUNT_ID>:client\\\/${iot:Connection.Thing.ThingName}\\\" ] }, { \\\"Effect\\\": \\\"Allow\\\", \\\"Action\\\": [ \\\"iot:Publish\\\", \\\"iot:Receive\\\" ], \\\"Resource\\\": [ \\\"arn:aws:iot:us-east-2:<ACCOUNT_ID>:topic\\\/${iot:Connection.Thing.ThingName}\\\/*\\\" ] }, { \\\"Effect\\\": \\\"Allow\\\", \\\"Action\\\": [ \\\"iot:Subscribe\\\" ], \\\"Resource\\\": [ \\\"arn:aws:iot:us-east-2:<ACCOUNT_ID>:topicfilter\\\/${iot:Connection.Thing.ThingName}\\\/*\\\" ] } ] }\" } } } }",
 "roleArn":"arn:aws:iam::<ACCOUNT_ID>:role/JITPRole"
}
JSON
sed -i "s/<ACCOUNT_ID>/$ACCOUNT_ID/g" jitp_template.json
ca_id=$(iot register-ca-certificate --ca-certificate file://deviceRootCA.pem --verification-cert file://verificationCert.crt --set-as-active --allow-auto-registration --registration-config file://jitp_template.json --region us-east-2 | field certificateId)

# Device certificate: CN=DemoThing, C=IN; the chain file.
openssl genrsa -out deviceCert.key 2048 2>/dev/null
openssl req -new -key deviceCert.key -out deviceCert.csr -subj "/C=IN/CN=DemoThing"
openssl x509 -req -in deviceCert.csr -CA deviceRootCA.pem -CAkey deviceRootCA.key -CAcreateserial -out deviceCert.crt -days 365 -sha256 2>/dev/null
cat deviceCert.crt deviceRootCA.pem > deviceCertAndCACert.crt
cert_id=$(openssl x509 -in deviceCert.crt -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)

pub() { mosquitto_pub --cafile awsRootCA.pem -h "$MQTT_HOST" -p "$MQTT_PORT" -q 1 --tls-version tlsv1.2 "$@"; }

# First connection: provisioned, then dropped ("The connection was lost").
if out=$(pub --cert deviceCertAndCACert.crt --key deviceCert.key -t foo/bar -i anyclientID -m "Hello" -d 2>&1); then
  fail "the first (provisioning) connection was not dropped: $out"
fi
echo "first connection, as expected: $(echo "$out" | tail -1)"

# The template's resources exist.
[[ $(iot describe-certificate --certificate-id "$cert_id" | field certificateDescription.status) == ACTIVE ]] || fail "certificate not ACTIVE"
thing=$(iot describe-thing --thing-name DemoThing)
[[ $(echo "$thing" | field attributes.country) == IN && $(echo "$thing" | field attributes.version) == v1 ]] || fail "thing attributes: $thing"
contains "$(iot list-thing-principals --thing-name DemoThing)" "cert/$cert_id" || fail "certificate not attached to the thing"
policy=$(iot list-attached-policies --target "arn:aws:iot:us-east-2:$ACCOUNT_ID:cert/$cert_id" | field policies.0.policyName)
contains "$(iot get-policy --policy-name "$policy" | field policyDocument)" 'topic\/${iot:Connection.Thing.ThingName}\/*' || contains "$(iot get-policy --policy-name "$policy" | field policyDocument)" 'topic/${iot:Connection.Thing.ThingName}/*' || fail "policy $policy"
contains "$(iot list-certificates-by-ca --ca-certificate-id "$ca_id")" "$cert_id" || fail "list-certificates-by-ca"

# A console-like observer: a server-issued certificate with an admin policy.
iot create-keys-and-certificate --set-as-active --certificate-pem-outfile observer.crt --private-key-outfile observer.key > observer.json
iot create-policy --policy-name observer --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}' >/dev/null
iot attach-policy --policy-name observer --target "$(field certificateArn < observer.json)"
mosquitto_sub --cafile awsRootCA.pem -h "$MQTT_HOST" -p "$MQTT_PORT" --cert observer.crt --key observer.key -i observer -q 1 -t DemoThing/test -C 1 -W 30 > received.txt &
sub=$!
# Wait until the observer is subscribed: its presence event is visible to a second observer... simpler: retry publishing until received.
for i in $(seq 1 50); do
  pub --cert deviceCert.crt --key deviceCert.key -t DemoThing/test -i DemoThing -m "Hello" -d > pub.log 2>&1 || fail "publishing as DemoThing: $(cat pub.log)"
  if ! kill -0 $sub 2>/dev/null; then break; fi
  sleep 0.2
done
wait $sub || fail "the observer did not receive the message"
[[ $(cat received.txt) == Hello ]] || fail "observer received: $(cat received.txt)"
echo "second connection published, and the message was received"

# Outside the policy: another topic, another client id.
if pub --cert deviceCert.crt --key deviceCert.key -t other/topic -i DemoThing -m "x" > deny.log 2>&1; then
  fail "publishing outside DemoThing/* was accepted: $(cat deny.log)"
fi
if pub --cert deviceCert.crt --key deviceCert.key -t DemoThing/test -i someoneElse -m "x" > deny2.log 2>&1; then
  fail "connecting with another client id was accepted: $(cat deny2.log)"
fi
contains "$(cat deny2.log)" "not authorised" || contains "$(cat deny2.log)" "not authorized" || fail "another client id: $(cat deny2.log)"
echo "seed 000 passed"
