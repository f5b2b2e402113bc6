// MQTTClient: an MQTT 3.1.1 client of QoS 0 and 1 over the browser's
// WebSocket, for the console's MQTT test client.
//
// One client, one connection: connect() once; after the connection ends,
// make a new client. Never log the URL: it carries a signature.

import {
  PacketReader,
  encodeConnect,
  encodeDisconnect,
  encodePingreq,
  encodePuback,
  encodePublish,
  encodeSubscribe,
  encodeUnsubscribe,
} from "./mqttpacket.js";

const KEEP_ALIVE_S = 60;
const PING_INTERVAL_MS = 45_000; // well within the keep-alive [MQTT-3.1.2-23]
const CONNACK_TIMEOUT_MS = 30_000;

// CONNACK's return codes [MQTT-3.2.2.3].
const REFUSALS = {
  1: "unacceptable protocol version",
  2: "client identifier rejected",
  3: "server unavailable",
  4: "bad user name or password",
  5: "not authorized",
};

// SubscriptionRefusedError: the server answered SUBSCRIBE with 0x80.
export class SubscriptionRefusedError extends Error {
  constructor(filter) {
    super(`the server refused the subscription to ${filter}`);
    this.name = "SubscriptionRefusedError";
    this.filter = filter;
  }
}

export class MQTTClient {
  // onmessage({topic, payload, qos, retain, receivedAt}) for every PUBLISH.
  onmessage = null;
  // onclose(reason) once, when a connection that connect() established
  // ends, whether by the server, the network or close().
  onclose = null;

  #ws = null;
  #reader = new PacketReader();
  #connected = false;
  #closed = false;
  #connect = null; // connect()'s {resolve, reject} until CONNACK
  #pending = new Map(); // packet identifier → {type, resolve, reject, filter}
  #nextId = 1;
  #timer = null; // the CONNACK timeout, then the ping interval
  #awaitingPong = false;

  get connected() {
    return this.#connected;
  }

  // connect opens the WebSocket and resolves once the server accepted the
  // connection (CONNACK 0). A clean session: no subscriptions survive.
  connect(url, clientId) {
    if (this.#ws) return Promise.reject(new Error("this client has connected before"));
    return new Promise((resolve, reject) => {
      this.#connect = { resolve, reject };
      let ws;
      try {
        ws = new WebSocket(url, "mqtt"); // [MQTT-6.0.0-3]
      } catch (err) {
        // A malformed URL; its text is not repeated, it is signed.
        this.#connect = null;
        this.#closed = true;
        reject(new Error(`cannot open the WebSocket: ${err.name}`));
        return;
      }
      this.#ws = ws;
      ws.binaryType = "arraybuffer";
      ws.onopen = () => {
        try {
          this.#send(encodeConnect({ clientId, keepAlive: KEEP_ALIVE_S, cleanSession: true }));
        } catch (err) {
          this.#end(err.message); // a client id too long
        }
      };
      ws.onmessage = (ev) => this.#receive(ev.data);
      // A browser says nothing of why (a refused upgrade, an unreachable
      // server): error, then close with code 1006.
      ws.onerror = () => this.#end(this.#connected ? "connection lost" : "the WebSocket connection failed");
      ws.onclose = (ev) => this.#end(ev.code === 1006 ? "connection lost" : `WebSocket closed (code ${ev.code}${ev.reason ? `: ${ev.reason}` : ""})`);
      this.#timer = setTimeout(() => this.#end(`no CONNACK within ${CONNACK_TIMEOUT_MS / 1000} s`), CONNACK_TIMEOUT_MS);
    });
  }

  // subscribe resolves to the QoS the server granted.
  subscribe(filter, qos = 0) {
    return this.#request("suback", (id) => encodeSubscribe(id, [{ filter, qos }]), filter);
  }

  unsubscribe(filter) {
    return this.#request("unsuback", (id) => encodeUnsubscribe(id, [filter]), filter);
  }

  // publish sends payload (a Uint8Array): QoS 0 resolves once sent, QoS 1
  // once the server acknowledged it.
  publish(topic, payload, qos = 0, retain = false) {
    if (qos === 0) {
      if (!this.#connected) return Promise.reject(new Error("not connected"));
      try {
        this.#send(encodePublish({ topic, payload, qos, retain }));
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.#request("puback", (packetId) => encodePublish({ topic, payload, qos, retain, packetId }));
  }

  // close ends the connection politely: DISCONNECT, then the WebSocket's
  // close, which the browser sends after DISCONNECT.
  close() {
    if (this.#connected) {
      try {
        this.#send(encodeDisconnect());
      } catch {
        // closing anyway
      }
    }
    this.#end("closed by the client");
  }

  // #request sends the packet encode(id) makes and waits for the answer of
  // that type with that identifier.
  #request(type, encode, filter) {
    if (!this.#connected) return Promise.reject(new Error("not connected"));
    return new Promise((resolve, reject) => {
      const id = this.#allocateId();
      this.#send(encode(id)); // throws on a bad topic or a closing socket: the promise rejects
      this.#pending.set(id, { type, resolve, reject, filter });
    });
  }

  #allocateId() {
    for (let i = 0; i < 0xffff; i++) {
      const id = this.#nextId;
      this.#nextId = id === 0xffff ? 1 : id + 1;
      if (!this.#pending.has(id)) return id;
    }
    throw new Error("65535 requests are waiting for the server");
  }

  #send(packet) {
    if (this.#closed || this.#ws?.readyState !== WebSocket.OPEN) throw new Error("not connected");
    this.#ws.send(packet); // one packet, one binary message
  }

  #receive(data) {
    if (this.#closed) return;
    if (typeof data === "string") {
      this.#end("the server sent a text message"); // [MQTT-6.0.0-1]
      return;
    }
    let packets;
    try {
      packets = this.#reader.push(new Uint8Array(data));
    } catch (err) {
      this.#end(err.message);
      return;
    }
    try {
      for (const p of packets) {
        if (this.#closed) return;
        this.#handle(p);
      }
    } catch (err) {
      this.#end(err.message); // a PUBACK that could not be sent
    }
  }

  #handle(p) {
    if (!this.#connected) {
      // The first packet from the server is CONNACK [MQTT-3.2.0-1].
      if (p.type !== "connack") {
        this.#end(`the server sent ${p.type.toUpperCase()} before CONNACK`);
      } else if (p.returnCode !== 0) {
        const why = REFUSALS[p.returnCode] ?? "unknown reason";
        this.#end(`the server refused the connection: ${why} (return code ${p.returnCode})`);
      } else {
        this.#connected = true;
        clearTimeout(this.#timer);
        this.#timer = setInterval(() => this.#ping(), PING_INTERVAL_MS);
        this.#connect.resolve();
        this.#connect = null;
      }
      return;
    }
    switch (p.type) {
      case "publish":
        this.#deliver(p);
        break;
      case "pingresp":
        this.#awaitingPong = false;
        break;
      case "suback":
      case "unsuback":
      case "puback": {
        const req = this.#pending.get(p.packetId);
        if (!req || req.type !== p.type) break; // nothing asked: ignored
        this.#pending.delete(p.packetId);
        if (p.type !== "suback") {
          req.resolve();
        } else if (p.granted[0] === 0x80) {
          req.reject(new SubscriptionRefusedError(req.filter));
        } else {
          req.resolve(p.granted[0]);
        }
        break;
      }
      default:
        this.#end(`the server sent an unexpected ${p.type.toUpperCase()}`);
    }
  }

  #deliver(p) {
    if (p.qos === 2) {
      this.#end("the server sent a QoS 2 message, which this client does not support");
      return;
    }
    if (p.qos === 1) this.#send(encodePuback(p.packetId)); // [MQTT-4.3.2-2]
    try {
      this.onmessage?.({ topic: p.topic, payload: p.payload, qos: p.qos, retain: p.retain, receivedAt: new Date() });
    } catch (err) {
      console.error("MQTT onmessage:", err);
    }
  }

  #ping() {
    if (this.#awaitingPong) {
      this.#end(`no PINGRESP within ${PING_INTERVAL_MS / 1000} s`);
      return;
    }
    this.#awaitingPong = true;
    try {
      this.#send(encodePingreq());
    } catch {
      this.#end("connection lost");
    }
  }

  // #end closes the connection, once, and rejects whatever waits.
  #end(reason) {
    if (this.#closed) return;
    this.#closed = true;
    const wasConnected = this.#connected;
    this.#connected = false;
    clearTimeout(this.#timer);
    clearInterval(this.#timer);
    const ws = this.#ws;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) ws.close(1000);
    }
    if (this.#connect) {
      this.#connect.reject(new Error(reason));
      this.#connect = null;
    }
    for (const req of this.#pending.values()) req.reject(new Error(`connection closed: ${reason}`));
    this.#pending.clear();
    if (wasConnected) {
      try {
        this.onclose?.(reason);
      } catch (err) {
        console.error("MQTT onclose:", err);
      }
    }
  }
}
