#!/usr/bin/env python3
"""Writes the inputs of the canonical-request golden files: requests signed by
botocore's SigV4Auth at a fixed time, as they go over the wire.

    python3 testdata/canonical/generate.py
    go test ./internal/awsapi/sigv4/ -run TestCanonicalGolden -update

The second step fills in the expected canonical requests, which the test then
cross-checks by verifying each request's signature.
"""
import datetime
import os
import urllib.parse

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HOST = "localhost:9443"
KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"  # testSecret in verifier_test.go
botocore.auth.get_current_datetime = lambda: datetime.datetime(2026, 3, 4, 5, 6, 7)

CASES = [
    # name, method, target, headers, body, region
    ("describe-endpoint", "GET", "/endpoint?endpointType=iot%3AData-ATS", {}, b"", "us-east-2"),
    ("list-attached-policies", "POST",
     "/attached-policies/arn%3Aaws%3Aiot%3Aus-east-1%3A123456789012%3Acert%2Fabc?recursive=true", {}, b"", "ap-south-1"),
    ("create-thing", "POST", "/things/t1", {"Content-Type": "application/json"},
     b'{"attributePayload":{"attributes":{"a":"b"}}}', "eu-west-1"),
    ("list-things", "GET", "/things?maxResults=5&attributeValue=b%20c&marker=bmV4dA%3D%3D&z=2&z=1", {}, b"", "us-east-1"),
    ("principal-header", "PUT", "/things/t1/principals?thingPrincipalType=EXCLUSIVE_THING",
     {"x-amzn-principal": "  arn:aws:iot:us-east-1:123456789012:cert/abc    with   spaces "}, b"", "us-east-1"),
    ("dot-segments", "GET", "/things/./t1//principals/x/..", {}, b"", "us-east-1"),
    ("utf8-path", "DELETE", "/things/%C3%A9t%C3%A9?expectedVersion=3", {}, b"", "us-east-1"),
    # The body hash in x-amz-content-sha256 (UNSIGNED-PAYLOAD is refused).
    ("content-sha256", "POST", "/things/t1",
     {"X-Amz-Content-SHA256": "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}, b"{}", "us-east-1"),
]

here = os.path.dirname(os.path.abspath(__file__))
for name, method, target, headers, body, region in CASES:
    req = AWSRequest(method=method, url="http://" + HOST + target, data=body or None, headers=dict(headers))
    SigV4Auth(Credentials(KEY_ID, SECRET), "iot", region).add_auth(req)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {HOST}"]
    lines += [f"{k}: {v}" for k, v in req.headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    text = "\n".join(lines) + "\n\n" + body.decode() + "\n--- canonical request\n"
    with open(os.path.join(here, name + ".txt"), "w") as f:
        f.write(text)
