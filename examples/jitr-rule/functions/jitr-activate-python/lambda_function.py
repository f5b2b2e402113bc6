"""The JITR activation function of AWS's walkthrough ("Just-in-time
registration of device certificates on AWS IoT"), in Python with boto3.

A topic rule on $aws/events/certificates/registered/<caCertificateId> calls
it with the registration event; it creates a policy for the device, attaches
it to the certificate and activates the certificate. It runs unchanged on AWS
Lambda and under iotcore (which gives it AWS_REGION and AWS_ENDPOINT_URL).
"""
import json
import os

import boto3

iot = boto3.client("iot")


def lambda_handler(event, context):
    region = os.environ["AWS_REGION"]
    account_id = str(event["awsAccountId"]).strip()
    certificate_id = str(event["certificateId"]).strip()
    topic_name = f"foo/bar/{certificate_id}"
    certificate_arn = f"arn:aws:iot:{region}:{account_id}:cert/{certificate_id}"
    policy_name = f"Policy_{certificate_id}"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["iot:Connect"], "Resource": f"arn:aws:iot:{region}:{account_id}:client/{certificate_id}"},
            {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"], "Resource": f"arn:aws:iot:{region}:{account_id}:topic/{topic_name}"},
            {"Effect": "Allow", "Action": ["iot:Subscribe"], "Resource": f"arn:aws:iot:{region}:{account_id}:topicfilter/{topic_name}"},
        ],
    }
    try:
        iot.create_policy(policyName=policy_name, policyDocument=json.dumps(policy))
    except iot.exceptions.ResourceAlreadyExistsException:
        pass
    iot.attach_policy(policyName=policy_name, target=certificate_arn)
    iot.update_certificate(certificateId=certificate_id, newStatus="ACTIVE")
    print(f"activated {certificate_id} with {policy_name}")
    return {"certificateId": certificate_id, "policyName": policy_name}
