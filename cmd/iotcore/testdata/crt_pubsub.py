"""The essence of the AWS IoT Device SDK v2 sample pubsub.py (seed 001), on
Debian's python3-awscrt: the same mutual-TLS connection the SDK's
mqtt_connection_builder.mtls_from_path makes, then subscribe, publish and
receive. Exits 0 when the message came back, 1 otherwise.
"""
import argparse
import sys
import threading

from awscrt import io, mqtt

p = argparse.ArgumentParser()
p.add_argument("--endpoint", required=True)
p.add_argument("--port", type=int, default=8883)
p.add_argument("--root-ca", required=True)
p.add_argument("--cert", required=True)
p.add_argument("--key", required=True)
p.add_argument("--client-id", required=True)
p.add_argument("--topic", required=True)
p.add_argument("--message", required=True)
args = p.parse_args()

# What mtls_from_path does: mutual TLS from files, the root CA as trust store,
# ALPN x-amzn-mqtt-ca on port 443 only.
tls_options = io.TlsContextOptions.create_client_with_mtls_from_path(args.cert, args.key)
tls_options.override_default_trust_store_from_path(None, args.root_ca)
if args.port == 443:
    tls_options.alpn_list = ["x-amzn-mqtt-ca"]
elg = io.EventLoopGroup(1)
resolver = io.DefaultHostResolver(elg)
bootstrap = io.ClientBootstrap(elg, resolver)
client = mqtt.Client(bootstrap, io.ClientTlsContext(tls_options))
connection = mqtt.Connection(client=client, host_name=args.endpoint, port=args.port,
                             client_id=args.client_id, clean_session=False, keep_alive_secs=30,
                             ping_timeout_ms=5000)

print("Connecting to {} with client ID '{}'...".format(args.endpoint, args.client_id), flush=True)
try:
    connection.connect().result(timeout=20)
except Exception as e:
    print("Connection failed:", repr(e), flush=True)
    sys.exit(1)
print("Connected!", flush=True)

received = threading.Event()


def on_message_received(topic, payload, dup, qos, retain, **kwargs):
    print("Received message from topic '{}': {}".format(topic, payload.decode()), flush=True)
    if payload.decode() == args.message:
        received.set()


subscribe_future, _ = connection.subscribe(topic=args.topic, qos=mqtt.QoS.AT_LEAST_ONCE, callback=on_message_received)
print("Subscribed with", subscribe_future.result(timeout=10)["qos"], flush=True)
connection.publish(topic=args.topic, payload=args.message, qos=mqtt.QoS.AT_LEAST_ONCE)[0].result(timeout=10)
ok = received.wait(10)
connection.disconnect().result(timeout=10)
sys.exit(0 if ok else 1)
