"""The shadow flow of boto3's iot-data client against iotcore's HTTPS API.

Usage: boto3_shadow.py ENDPOINT_URL THING; the credentials come from the
environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY). Prints one JSON
object of what each call answered.
"""
import json
import sys

import boto3
import botocore

endpoint, thing = sys.argv[1], sys.argv[2]
c = boto3.client("iot-data", endpoint_url=endpoint, region_name="us-east-1")
out = {}

update = c.update_thing_shadow(thingName=thing, payload=json.dumps({"state": {"desired": {"on": True, "color": {"r": 255}}}, "clientToken": "boto3-1"}))
out["update"] = json.loads(update["payload"].read())
get = c.get_thing_shadow(thingName=thing)
out["get"] = json.loads(get["payload"].read())

c.update_thing_shadow(thingName=thing, shadowName="config", payload=json.dumps({"state": {"reported": {"interval": 30}}}))
out["named"] = c.list_named_shadows_for_thing(thingName=thing)["results"]
out["named_get"] = json.loads(c.get_thing_shadow(thingName=thing, shadowName="config")["payload"].read())
out["named_delete"] = json.loads(c.delete_thing_shadow(thingName=thing, shadowName="config")["payload"].read())
try:
    c.get_thing_shadow(thingName=thing, shadowName="config")
    out["deleted_get"] = "found"
except botocore.exceptions.ClientError as e:
    out["deleted_get"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
try:
    c.update_thing_shadow(thingName=thing, payload=json.dumps({"state": {"desired": {"on": False}}, "version": 1}))
    out["conflict"] = "accepted"
except botocore.exceptions.ClientError as e:
    out["conflict"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
try:
    c.update_thing_shadow(thingName=thing, payload=b"not json")
    out["bad_json"] = "accepted"
except botocore.exceptions.ClientError as e:
    out["bad_json"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
print(json.dumps(out))
