"""A device on Debian's python3-paho-mqtt (1.6): connects with its certificate,
subscribes, publishes, and reports on stdout what happens, one word a line:
"connected", "received <payload>", "disconnected". It exits 0 after it was
connected and then disconnected by the server, 1 on any other outcome or after
--timeout seconds.
"""
import argparse
import ssl
import sys
import threading

import paho.mqtt.client as mqtt

p = argparse.ArgumentParser()
p.add_argument("--host", required=True)
p.add_argument("--port", type=int, required=True)
p.add_argument("--cafile", required=True)
p.add_argument("--cert", required=True)
p.add_argument("--key", required=True)
p.add_argument("--client-id", required=True)
p.add_argument("--topic", required=True)
p.add_argument("--timeout", type=float, default=60)
args = p.parse_args()

done = threading.Event()
state = {"connected": False, "ok": False}


def say(*words):
    print(*words, flush=True)


def on_connect(client, userdata, flags, rc):
    if rc != 0:
        say("refused", rc)
        done.set()
        return
    state["connected"] = True
    say("connected")
    client.subscribe(args.topic, qos=1)


def on_subscribe(client, userdata, mid, granted_qos):
    say("subscribed", *granted_qos)
    client.publish(args.topic, "hello from paho", qos=1)


def on_message(client, userdata, msg):
    say("received", msg.payload.decode())


def on_disconnect(client, userdata, rc):
    say("disconnected", rc)
    state["ok"] = state["connected"]
    done.set()


c = mqtt.Client(client_id=args.client_id, protocol=mqtt.MQTTv311)
c.tls_set(ca_certs=args.cafile, certfile=args.cert, keyfile=args.key, tls_version=ssl.PROTOCOL_TLS_CLIENT)
c.on_connect, c.on_subscribe, c.on_message, c.on_disconnect = on_connect, on_subscribe, on_message, on_disconnect
try:
    c.connect(args.host, args.port, keepalive=30)
except Exception as e:  # the TLS or TCP connection failed
    say("error", e)
    sys.exit(1)
c.loop_start()
finished = done.wait(args.timeout)
c.loop_stop()
sys.exit(0 if finished and state["ok"] else 1)
