#!/bin/sh
# Regenerates the openssl-made fixtures under certs/ and keys/. The tests that
# run openssl live do not need these; they exist so that the golden, SHA-1 and
# fuzz tests also run where openssl is absent. After running this, refresh the
# golden files: go test ./internal/pki -run TestGolden -update
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
code=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

# Seed 000, steps 2-5 and 7-9, with -subj instead of prompts.
cat > "$tmp/conf" <<'CONF'
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
openssl genrsa -out "$tmp/ca.key" 2048
openssl req -new -sha256 -key "$tmp/ca.key" -nodes -out "$tmp/ca.csr" -config "$tmp/conf" -subj "/C=IN/O=AMZ"
openssl x509 -req -days 3650 -extfile "$tmp/conf" -extensions v3_ca -in "$tmp/ca.csr" -signkey "$tmp/ca.key" -out certs/seed-root.pem
openssl genrsa -out "$tmp/v.key" 2048
openssl req -new -key "$tmp/v.key" -out "$tmp/v.csr" -subj "/CN=$code"
openssl x509 -req -in "$tmp/v.csr" -CA certs/seed-root.pem -CAkey "$tmp/ca.key" -CAserial "$tmp/ca.srl" -CAcreateserial -out certs/verification.pem -days 500 -sha256
openssl x509 -req -in "$tmp/v.csr" -CA certs/seed-root.pem -CAkey "$tmp/ca.key" -CAserial "$tmp/ca.srl" -CAcreateserial -out certs/verification-sha1.pem -days 500 -sha1
openssl genrsa -out "$tmp/d.key" 2048
openssl req -new -key "$tmp/d.key" -out "$tmp/d.csr" -subj "/C=IN/CN=DemoThing"
openssl x509 -req -in "$tmp/d.csr" -CA certs/seed-root.pem -CAkey "$tmp/ca.key" -CAserial "$tmp/ca.srl" -CAcreateserial -out "$tmp/device.crt" -days 365 -sha256
cat "$tmp/device.crt" certs/seed-root.pem > certs/device-and-ca-chain.pem

# Variants users meet.
openssl x509 -in certs/seed-root.pem -text > certs/seed-root-with-text.pem
sed 's/$/\r/' certs/seed-root.pem > certs/seed-root-crlf.pem
sed 's/^/    /' certs/seed-root.pem > certs/seed-root-indented.pem
# The old recipe without -extfile: a version 1 self-signed root, and a v1 device under it.
openssl x509 -req -days 3650 -in "$tmp/ca.csr" -signkey "$tmp/ca.key" -out certs/v1-root.pem
openssl x509 -req -in "$tmp/d.csr" -CA certs/v1-root.pem -CAkey "$tmp/ca.key" -CAserial "$tmp/ca.srl" -CAcreateserial -out certs/v1-device.pem -days 365 -sha256
# Seed 003's `req -x509`, with an EC key.
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/ec.key" -sha256 -days 3650 -subj "/CN=EC Root" -out certs/ec-root.pem
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/x.key" -days 3650 -subj "/CN=Not a CA" -addext basicConstraints=critical,CA:FALSE -out certs/not-ca.pem
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/x.key" -days 3650 -subj "/CN=No certSign" -addext keyUsage=critical,digitalSignature -out certs/ca-without-certsign.pem
# Broken input.
cat "$tmp/ec.key" certs/ec-root.pem > certs/bad-key-before-certificate.pem
sed '3s/[A-Za-z]/!/g' certs/ec-root.pem > certs/bad-base64.pem
printf -- '-----BEGIN CERTIFICATE-----\naGVsbG8sIHdvcmxkCg==\n-----END CERTIFICATE-----\n' > certs/bad-der.pem
printf 'MIIBkTCB+wIJAKHHIG...this is not PEM\n' > certs/bad-no-pem.pem

# Keys as openssl writes them.
openssl genrsa -out keys/rsa-pkcs8.pem 2048
openssl genrsa -traditional -out keys/rsa-pkcs1.pem 2048
openssl genrsa -traditional -out keys/rsa-1024-pkcs1.pem 1024
openssl ecparam -name prime256v1 -genkey -out keys/ec-sec1-with-params.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out keys/ec-p384-pkcs8.pem
openssl genpkey -algorithm ed25519 -out keys/ed25519-pkcs8.pem
openssl pkcs8 -topk8 -in keys/rsa-pkcs8.pem -passout pass:secret -out keys/encrypted-pkcs8.pem
openssl genrsa -traditional -aes128 -passout pass:secret -out keys/encrypted-pkcs1.pem 2048
