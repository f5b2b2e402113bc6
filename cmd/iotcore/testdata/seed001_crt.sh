#!/usr/bin/env bash
# Seed 001 against iotcore: a CA registered with the workshop's template
# (wildcard client/topic policy), and the AWS IoT Device SDK's connection (awscrt)
# as the device: the first connection fails, the next one subscribes, publishes
# and receives "Hello World".
#
# Environment: AWS, ENDPOINT, AWS_SHARED_CREDENTIALS_FILE, ACCOUNT_ID, REGION,
# MQTT_HOST, MQTT_PORT, ROOT_CA, CRT_PY. Runs in an empty directory.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cp "$ROOT_CA" AmazonRootCA1.pem

openssl genrsa -out deviceRootCA.key 2048 2>/dev/null
printf '[ req ]\ndistinguished_name = dn\n[ v3_ca ]\nbasicConstraints = CA:TRUE\n[ dn ]\n' > ca.conf
openssl req -new -sha256 -key deviceRootCA.key -nodes -out deviceRootCA.csr -config ca.conf -subj "/C=IN/O=Workshop"
openssl x509 -req -days 3650 -extfile ca.conf -extensions v3_ca -in deviceRootCA.csr -signkey deviceRootCA.key -out deviceRootCA.pem 2>/dev/null
code=$(iot get-registration-code --region "$REGION" | field registrationCode)
openssl genrsa -out verificationCert.key 2048 2>/dev/null
openssl req -new -key verificationCert.key -out verificationCert.csr -subj "/CN=$code"
openssl x509 -req -in verificationCert.csr -CA deviceRootCA.pem -CAkey deviceRootCA.key -CAcreateserial -out verificationCert.crt -days 500 -sha256 2>/dev/null
cat > jitp_template.json <<'JSON'
{
 "templateBody":"{ \"Parameters\" : { \"AWS::IoT::Certificate::CommonName\" : { \"Type\" : \"String\" },\"AWS::IoT::Certificate::Country\" : { \"Type\" : \"String\" }, \"AWS::IoT::Certificate::Id\" : { \"Type\" : \"String\" }}, \"Resources\" : { \"thing\" : { \"Type\" : \"AWS::IoT::Thing\", \"Properties\" : { \"ThingName\" : {\"Ref\" : \"AWS::IoT::Certificate::CommonName\"}, \"AttributePayload\" : { \"version\" : \"v1\", \"country\" : {\"Ref\" : \"AWS::IoT::Certificate::Country\"}} } }, \"certificate\" : { \"Type\" : \"AWS::IoT::Certificate\", \"Properties\" : { \"CertificateId\": {\"Ref\" : \"AWS::IoT::Certificate::Id\"}, \"Status\" : \"ACTIVE\" } }, \"policy\" : {\"Type\" : \"AWS::IoT::Policy\", \"Properties\" : { \"PolicyDocument\" : \"{ \\\"Version\\\": \\\"2012-10-17\\\", \\\"Statement\\\": [ { \\\"Effect\\\": \\\"Allow\\\", \\\"Action\\\": [ \\\"iot:Connect\\\" ], \\\"Resource\\\": [ \\\"arn:aws:iot:<REGION>:<ACCOUNT_ID>:client\\\/*\\\" ] }, { \\\"Effect\\\": \\\"Allow\\\", \\\"Action\\\": [ \\\"iot:Publish\\\", \\\"iot:Receive\\\" ], \\\"Resource\\\": [ \\\"arn:aws:iot:<REGION>:<ACCOUNT_ID>:topic\\\/*\\\" ] }, { \\\"Effect\\\": \\\"Allow\\\", \\\"Action\\\": [ \\\"iot:Subscribe\\\" ], \\\"Resource\\\": [ \\\"arn:aws:iot:<REGION>:<ACCOUNT_ID>:topicfilter\\\/*\\\" ] } ] }\" } } } }",
 "roleArn":"<ROLE_ARN>"
}
JSON
sed -i "s/<REGION>/$REGION/g; s/<ACCOUNT_ID>/$ACCOUNT_ID/g; s|<ROLE_ARN>|arn:aws:iam::$ACCOUNT_ID:role/JITP_demo|" jitp_template.json
iot register-ca-certificate --ca-certificate file://deviceRootCA.pem --verification-cert file://verificationCert.crt --set-as-active --allow-auto-registration --registration-config file://jitp_template.json --region "$REGION" >/dev/null

openssl genrsa -out deviceCert.key 2048 2>/dev/null
openssl req -new -key deviceCert.key -out deviceCert.csr -subj "/C=IN/CN=JITP_Demo_Device"
openssl x509 -req -in deviceCert.csr -CA deviceRootCA.pem -CAkey deviceRootCA.key -CAcreateserial -out deviceCert.crt -days 365 -sha256 2>/dev/null
cat deviceCert.crt deviceRootCA.pem > deviceCertAndCACert.crt

run() { /usr/bin/python3 "$CRT_PY" --endpoint "$MQTT_HOST" --port "$MQTT_PORT" --root-ca AmazonRootCA1.pem --cert deviceCertAndCACert.crt --key deviceCert.key --client-id "JITP_Demo_Device" --topic "test" --message "Hello World"; }
if out=$(run 2>&1); then fail "the first connection succeeded: $out"; fi
echo "first connection, as the seed says: $(echo "$out" | tail -1)"
out=$(run 2>&1) || fail "the second connection: $out"
echo "$out"
[[ $(iot describe-thing --thing-name JITP_Demo_Device | field attributes.country) == IN ]] || fail "thing"
echo "seed 001 passed"
