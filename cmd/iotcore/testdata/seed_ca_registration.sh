#!/usr/bin/env bash
# The control-plane steps of the source documents (seeds 000, 002 and 003), run
# as written against iotcore: the only change is --endpoint-url.
#
# Environment: AWS (the aws command to use), ENDPOINT (the API URL),
# AWS_SHARED_CREDENTIALS_FILE, ACCOUNT_ID, and the working directory is empty.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# --- Seed 000: root CA and verification certificate with openssl -------------
openssl genrsa -out deviceRootCA.key 2048 2>/dev/null
cat > deviceRootCA_openssl.conf <<'CONF'
[ req ]
distinguished_name       = req_distinguished_name
extensions               = v3_ca
req_extensions           = v3_ca

[ v3_ca ]
basicConstraints         = CA:TRUE

[ req_distinguished_name ]
countryName              = Country Name (2 letter code)
countryName_default      = IN
countryName_min          = 2
countryName_max          = 2
organizationName         = Organization Name (eg, company)
organizationName_default = AMZ
CONF
# (the seed answers the prompts interactively; -subj gives the same answers)
openssl req -new -sha256 -key deviceRootCA.key -nodes -out deviceRootCA.csr -config deviceRootCA_openssl.conf -subj "/C=IN/O=AMZ"
openssl x509 -req -days 3650 -extfile deviceRootCA_openssl.conf -extensions v3_ca -in deviceRootCA.csr -signkey deviceRootCA.key -out deviceRootCA.pem 2>/dev/null

code=$(iot get-registration-code --region us-east-2 | field registrationCode)
[[ $code =~ ^[0-9a-f]{64}$ ]] || fail "registration code $code"

openssl genrsa -out verificationCert.key 2048 2>/dev/null
openssl req -new -key verificationCert.key -out verificationCert.csr -subj "/CN=$code"
openssl x509 -req -in verificationCert.csr -CA deviceRootCA.pem -CAkey deviceRootCA.key -CAcreateserial -out verificationCert.crt -days 500 -sha256 2>/dev/null

# The seed's jitp_template.json, verbatim but for the account id.
cat > jitp_template.json <<'JSON'
{
 "templateBody":"{ \"Parameters\" : { \"AWS::IoT::Certificate::CommonName\" : { \"Type\" : \"String\" },\"AWS::IoT::Certificate::Country\" : { \"Type\" : \"String\" }, \"AWS::IoT::Certificate::Id\" : { \"Type\" : \"String\" }}, \"Resources\" : { \"thing\" : { \"Type\" : \"AWS::IoT::Thing\", \"Properties\" : { \"ThingName\" : {\"Ref\" : \"AWS::IoT::Certificate::CommonName\"}, \"AttributePayload\" : { \"version\" : \"v1\", \"country\" : {\"Ref\" : \"AWS::IoT::Certificate::Country\"}} } }, \"certificate\" : { \"Type\" : \"AWS::IoT::Certificate\", \"Properties\" : { \"CertificateId\": {\"Ref\" : \"AWS::IoT::Certificate::Id\"}, \"Status\" : \"ACTIVE\" } }, \"policy\" : {\"Type\" : \"AWS::IoT::Policy\", \"Properties\" : { \"PolicyDocument\" : \"{ \\\"Version\\\": \\\"2012-10-17\\\", \\\"Statement\\\": [ { \\\"Effect\\\": \\\"Allow\\\", \\\"Action\\\": [ \\\"iot:Connect\\\" ], \\\"Resource\\\": [ \\\"arn:aws:iot:us-east-2:<ACCOUNT_ID>:client\\\/${iot:Connection.Thing.ThingName}\\\" ] }, { \\\"Effect\\\": \\\"Allow\\\", \\\"Action\\\": [ \\\"iot:Publish\\\", \\\"iot:Receive\\\" ], \\\"Resource\\\": [ \\\"arn:aws:iot:us-east-2:<ACCOUNT_ID>:topic\\\/${iot:Connection.Thing.ThingName}\\\/*\\\" ] }, { \\\"Effect\\\": \\\"Allow\\\", \\\"Action\\\": [ \\\"iot:Subscribe\\\" ], \\\"Resource\\\": [ \\\"arn:aws:iot:us-east-2:<ACCOUNT_ID>:topicfilter\\\/${iot:Connection.Thing.ThingName}\\\/*\\\" ] } ] }\" } } } }",
 "roleArn":"arn:aws:iam::<ACCOUNT_ID>:role/JITPRole"
}
JSON
sed -i "s/<ACCOUNT_ID>/$ACCOUNT_ID/g" jitp_template.json

out=$(iot register-ca-certificate --ca-certificate file://deviceRootCA.pem --verification-cert file://verificationCert.crt --set-as-active --allow-auto-registration --registration-config file://jitp_template.json --region us-east-2)
ca_id=$(echo "$out" | field certificateId)
ca_arn=$(echo "$out" | field certificateArn)
want_id=$(openssl x509 -in deviceRootCA.pem -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
[[ $ca_id == "$want_id" ]] || fail "caCertificateId $ca_id, want the SHA-256 fingerprint $want_id"
[[ $ca_arn == "arn:aws:iot:"*":$ACCOUNT_ID:cacert/$ca_id" ]] || fail "CA ARN $ca_arn"

# A wrong registration code is refused with AWS's error.
openssl req -new -key verificationCert.key -out wrong.csr -subj "/CN=0000000000000000000000000000000000000000000000000000000000000000"
openssl x509 -req -in wrong.csr -CA deviceRootCA.pem -CAkey deviceRootCA.key -CAcreateserial -out wrong.crt -days 500 -sha256 2>/dev/null
if err=$(iot register-ca-certificate --ca-certificate file://deviceRootCA.pem --verification-cert file://wrong.crt --region us-east-2 2>&1); then
  fail "a verification certificate with the wrong code was accepted"
fi
[[ $err == *"(RegistrationCodeValidationException)"* || $err == *"(ResourceAlreadyExistsException)"* ]] || fail "wrong code: $err"

# --- Seed 003: describe and manage the CA ------------------------------------
desc=$(iot describe-ca-certificate --certificate-id "$ca_id")
[[ $(echo "$desc" | field certificateDescription.status) == ACTIVE ]] || fail "CA status: $desc"
[[ $(echo "$desc" | field certificateDescription.autoRegistrationStatus) == ENABLE ]] || fail "auto-registration: $desc"
contains "$(echo "$desc" | field registrationConfig.templateBody)" 'AWS::IoT::Thing' || fail "template not kept: $desc"
contains "$(echo "$desc" | field registrationConfig.roleArn)" "arn:aws:iam::$ACCOUNT_ID:role/JITPRole" || fail "role not kept"
contains "$(iot list-ca-certificates)" "$ca_id" || fail "list-ca-certificates misses the CA"

# --- Seed 002: a named policy, then the template by update-ca-certificate -----
cat > policy.json <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    { "Effect": "Allow", "Action": [ "iot:Connect" ], "Resource": [ "arn:aws:iot:eu-west-1:$ACCOUNT_ID:client/\${iot:Connection.Thing.ThingName}" ] },
    { "Effect": "Allow", "Action": [ "iot:Publish", "iot:Receive" ], "Resource": [ "arn:aws:iot:eu-west-1:$ACCOUNT_ID:topic/\${iot:Connection.Thing.ThingName}/*" ] },
    { "Effect": "Allow", "Action": [ "iot:Subscribe" ], "Resource": [ "arn:aws:iot:eu-west-1:$ACCOUNT_ID:topicfilter/\${iot:Connection.Thing.ThingName}/*" ] }
  ]
}
JSON
iot create-policy --policy-name lamassu-test-policy --policy-document file://policy.json --region eu-west-1 >/dev/null
contains "$(iot get-policy --policy-name lamassu-test-policy --region eu-west-1 | field policyDocument)" 'iot:Connection.Thing.ThingName' || fail "policy document"
cat > jitp_template2.json <<JSON
{
"templateBody" : "{ \"Parameters\" : { \"AWS::IoT::Certificate::CommonName\": { \"Type\": \"String\" }, \"AWS::IoT::Certificate::SerialNumber\": {  \"Type\": \"String\" }, \"AWS::IoT::Certificate::Id\": { \"Type\": \"String\" } }, \"Resources\": { \"thing\": { \"Type\": \"AWS::IoT::Thing\", \"Properties\": { \"ThingName\": {\"Ref\": \"AWS::IoT::Certificate::CommonName\"  }, \"AttributePayload\": {} }}, \"certificate\": { \"Type\": \"AWS::IoT::Certificate\", \"Properties\": { \"CertificateId\": {\"Ref\": \"AWS::IoT::Certificate::Id\" }, \"Status\": \"ACTIVE\" }}, \"policy\": { \"Type\": \"AWS::IoT::Policy\", \"Properties\": { \"PolicyName\": \"lamassu-test-policy\" } }}}",
"roleArn":"arn:aws:iam::$ACCOUNT_ID:role/JITPRole"
}
JSON
iot update-ca-certificate --certificate-id "$ca_id" --new-auto-registration-status ENABLE --registration-config file://jitp_template2.json --region eu-west-1
contains "$(iot describe-ca-certificate --certificate-id "$ca_id" | field registrationConfig.templateBody)" lamassu-test-policy || fail "update-ca-certificate did not replace the template"
endpoint=$(iot describe-endpoint --endpoint-type iot:Data-ATS --region eu-west-1 | field endpointAddress)
[[ -n $endpoint ]] || fail "describe-endpoint"

# --- A device certificate from the CA, registered by hand (seed 003) ----------
openssl genrsa -out deviceCert.key 2048 2>/dev/null
openssl req -new -key deviceCert.key -out deviceCert.csr -subj "/C=IN/CN=DemoThing"
openssl x509 -req -in deviceCert.csr -CA deviceRootCA.pem -CAkey deviceRootCA.key -CAcreateserial -out deviceCert.crt -days 365 -sha256 2>/dev/null
cert_id=$(iot register-certificate --certificate-pem file://deviceCert.crt --ca-certificate-pem file://deviceRootCA.pem | field certificateId)
[[ $(iot describe-certificate --certificate-id "$cert_id" | field certificateDescription.status) == INACTIVE ]] || fail "new certificate not INACTIVE"
iot update-certificate --certificate-id "$cert_id" --new-status ACTIVE
contains "$(iot list-certificates-by-ca --ca-certificate-id "$ca_id")" "$cert_id" || fail "list-certificates-by-ca"
cert_arn="arn:aws:iot:us-east-1:$ACCOUNT_ID:cert/$cert_id"
iot create-thing --thing-name DemoThing --attribute-payload '{"attributes":{"country":"IN","version":"v1"}}' >/dev/null
iot attach-thing-principal --thing-name DemoThing --principal "$cert_arn"
iot attach-policy --policy-name lamassu-test-policy --target "$cert_arn"
contains "$(iot list-attached-policies --target "$cert_arn")" lamassu-test-policy || fail "list-attached-policies"
contains "$(iot list-thing-principals --thing-name DemoThing)" "$cert_arn" || fail "list-thing-principals"
contains "$(iot list-things)" DemoThing || fail "list-things (seed 004)"

# Revoke the device and deactivate the CA (seed 003's last steps).
iot update-certificate --certificate-id "$cert_id" --new-status REVOKED
if err=$(iot update-certificate --certificate-id "$cert_id" --new-status ACTIVE 2>&1); then fail "a REVOKED certificate was reactivated"; fi
[[ $err == *"(CertificateStateException)"* ]] || fail "reactivation error: $err"
iot update-ca-certificate --certificate-id "$ca_id" --new-status INACTIVE
[[ $(iot describe-ca-certificate --certificate-id "$ca_id" | field certificateDescription.status) == INACTIVE ]] || fail "CA not INACTIVE"
echo "seed flows passed with $("$AWS" --version 2>&1)"
