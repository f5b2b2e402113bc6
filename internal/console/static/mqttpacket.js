// MQTT 3.1.1 packets, encoded and decoded: the codec of the console's MQTT
// test client, free of the DOM and of WebSocket so that Node can test it.
//
// Only what a client needs: it encodes the packets a client sends and
// decodes those a server sends to a client of QoS 0 and 1 (the QoS levels
// AWS IoT Core supports). Malformed input throws an Error.

const CONNECT = 1;
const CONNACK = 2;
const PUBLISH = 3;
const PUBACK = 4;
const SUBSCRIBE = 8;
const SUBACK = 9;
const UNSUBSCRIBE = 10;
const UNSUBACK = 11;
const PINGREQ = 12;
const PINGRESP = 13;
const DISCONNECT = 14;

// The largest remaining length, four bytes of seven bits [MQTT-2.2.3].
export const MAX_REMAINING_LENGTH = 268435455;

const encoder = new TextEncoder();
// fatal: a string that is not UTF-8 is a malformed packet [MQTT-1.5.3-1].
const decoder = new TextDecoder("utf-8", { fatal: true });

class MalformedPacket extends Error {
  constructor(message) {
    super(`malformed MQTT packet: ${message}`);
    this.name = "MalformedPacket";
  }
}

// encodeRemainingLength returns n as the fixed header's variable-length
// integer: seven bits a byte, least significant first, the top bit set on
// every byte but the last.
export function encodeRemainingLength(n) {
  if (!Number.isInteger(n) || n < 0 || n > MAX_REMAINING_LENGTH) {
    throw new RangeError(`remaining length ${n} is outside 0..${MAX_REMAINING_LENGTH}`);
  }
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Uint8Array.from(out);
}

// decodeRemainingLength reads the remaining length at buf[offset..end):
// {value, length} with length the bytes it took, or null when the bytes end
// before it does. A fifth byte is malformed.
export function decodeRemainingLength(buf, offset = 0, end = buf.length) {
  let value = 0;
  for (let i = 0; i < 4; i++) {
    if (offset + i >= end) return null;
    const b = buf[offset + i];
    value += (b & 0x7f) * 128 ** i;
    if ((b & 0x80) === 0) return { value, length: i + 1 };
  }
  throw new MalformedPacket("remaining length longer than 4 bytes");
}

function utf8(s, what) {
  if (typeof s !== "string") throw new TypeError(`${what} must be a string`);
  const b = encoder.encode(s);
  if (b.length > 0xffff) throw new RangeError(`${what} is longer than 65535 bytes of UTF-8`);
  return b;
}

function checkPacketId(id) {
  // Non-zero 16 bits [MQTT-2.3.1-1].
  if (!Number.isInteger(id) || id < 1 || id > 0xffff) {
    throw new RangeError(`packet identifier ${id} is outside 1..65535`);
  }
}

function checkQoS(qos) {
  if (qos !== 0 && qos !== 1) throw new RangeError(`QoS ${qos} is not supported (0 or 1)`);
}

// Writer builds a packet's variable header and payload.
class Writer {
  parts = [];
  length = 0;

  bytes(b) {
    this.parts.push(b);
    this.length += b.length;
    return this;
  }
  byte(b) {
    return this.bytes(Uint8Array.of(b));
  }
  uint16(n) {
    return this.bytes(Uint8Array.of(n >> 8, n & 0xff));
  }
  // string writes s with its two-byte length [MQTT-1.5.3].
  string(s, what) {
    const b = utf8(s, what);
    return this.uint16(b.length).bytes(b);
  }

  // packet returns the fixed header's first byte, the remaining length and
  // what was written.
  packet(byte1) {
    const rl = encodeRemainingLength(this.length);
    const out = new Uint8Array(1 + rl.length + this.length);
    out[0] = byte1;
    out.set(rl, 1);
    let i = 1 + rl.length;
    for (const p of this.parts) {
      out.set(p, i);
      i += p.length;
    }
    return out;
  }
}

export function encodeConnect({ clientId, keepAlive = 60, cleanSession = true }) {
  if (!Number.isInteger(keepAlive) || keepAlive < 0 || keepAlive > 0xffff) {
    throw new RangeError(`keep-alive ${keepAlive} is outside 0..65535 seconds`);
  }
  if (clientId === "" && !cleanSession) {
    throw new Error("an empty client id needs a clean session"); // [MQTT-3.1.3-7]
  }
  return new Writer()
    .string("MQTT", "protocol name") // [MQTT-3.1.2-1]
    .byte(4) // protocol level 4: 3.1.1 [MQTT-3.1.2-2]
    .byte(cleanSession ? 0x02 : 0x00) // no will, user name or password
    .uint16(keepAlive)
    .string(clientId, "client id")
    .packet(CONNECT << 4);
}

// encodeSubscribe subscribes to filters, [{filter, qos}].
export function encodeSubscribe(packetId, filters) {
  checkPacketId(packetId);
  if (filters.length === 0) throw new Error("SUBSCRIBE needs at least one filter"); // [MQTT-3.8.3-3]
  const w = new Writer().uint16(packetId);
  for (const { filter, qos } of filters) {
    if (filter === "") throw new Error("a topic filter cannot be empty"); // [MQTT-4.7.3-1]
    checkQoS(qos);
    w.string(filter, "topic filter").byte(qos);
  }
  return w.packet((SUBSCRIBE << 4) | 0x02); // flags 0010 [MQTT-3.8.1-1]
}

export function encodeUnsubscribe(packetId, filters) {
  checkPacketId(packetId);
  if (filters.length === 0) throw new Error("UNSUBSCRIBE needs at least one filter"); // [MQTT-3.10.3-2]
  const w = new Writer().uint16(packetId);
  for (const filter of filters) {
    if (filter === "") throw new Error("a topic filter cannot be empty");
    w.string(filter, "topic filter");
  }
  return w.packet((UNSUBSCRIBE << 4) | 0x02); // flags 0010 [MQTT-3.10.1-1]
}

// encodePublish publishes payload (a Uint8Array) to topic; packetId only
// for QoS 1.
export function encodePublish({ topic, payload = new Uint8Array(0), qos = 0, retain = false, packetId }) {
  checkQoS(qos);
  if (topic === "") throw new Error("a topic name cannot be empty"); // [MQTT-4.7.3-1]
  if (/[+#]/.test(topic)) throw new Error(`a topic name cannot hold wildcards: ${topic}`); // [MQTT-3.3.2-2]
  if (!(payload instanceof Uint8Array)) throw new TypeError("the payload must be a Uint8Array");
  const w = new Writer().string(topic, "topic name");
  if (qos > 0) {
    checkPacketId(packetId);
    w.uint16(packetId);
  }
  w.bytes(payload);
  return w.packet((PUBLISH << 4) | (qos << 1) | (retain ? 1 : 0));
}

export function encodePuback(packetId) {
  checkPacketId(packetId);
  return new Writer().uint16(packetId).packet(PUBACK << 4);
}

export function encodePingreq() {
  return Uint8Array.of(PINGREQ << 4, 0);
}

export function encodeDisconnect() {
  return Uint8Array.of(DISCONNECT << 4, 0);
}

// Reader reads one packet's variable header and payload.
class Reader {
  constructor(name, body) {
    this.name = name;
    this.body = body;
    this.pos = 0;
  }
  get left() {
    return this.body.length - this.pos;
  }
  need(n, what) {
    if (this.left < n) {
      throw new MalformedPacket(`${this.name} ends in its ${what} (${n} bytes needed, ${this.left} left)`);
    }
  }
  byte(what) {
    this.need(1, what);
    return this.body[this.pos++];
  }
  uint16(what) {
    this.need(2, what);
    const n = (this.body[this.pos] << 8) | this.body[this.pos + 1];
    this.pos += 2;
    return n;
  }
  packetId() {
    const id = this.uint16("packet identifier");
    if (id === 0) throw new MalformedPacket(`${this.name} has packet identifier 0`);
    return id;
  }
  string(what) {
    const n = this.uint16(`${what}'s length`);
    this.need(n, what);
    const b = this.body.subarray(this.pos, this.pos + n);
    this.pos += n;
    try {
      return decoder.decode(b);
    } catch {
      throw new MalformedPacket(`${this.name}'s ${what} is not UTF-8`);
    }
  }
  rest() {
    const b = this.body.slice(this.pos); // a copy: the body is the reader's buffer
    this.pos = this.body.length;
    return b;
  }
  end() {
    if (this.left !== 0) throw new MalformedPacket(`${this.name} has ${this.left} bytes too many`);
  }
}

// The packets a server sends a client, by type, with the flags their fixed
// header must have (null: PUBLISH's flags vary) [MQTT-2.2.2-2].
const decoders = {
  [CONNACK]: { name: "CONNACK", flags: 0, decode(r) {
    const flags = r.byte("acknowledge flags");
    if (flags & 0xfe) throw new MalformedPacket("CONNACK's reserved flags are set"); // [MQTT-3.2.2.1]
    const returnCode = r.byte("return code");
    r.end();
    return { type: "connack", sessionPresent: flags === 1, returnCode };
  } },
  [PUBLISH]: { name: "PUBLISH", flags: null, decode(r, flags) {
    const qos = (flags >> 1) & 3;
    if (qos === 3) throw new MalformedPacket("PUBLISH with QoS 3"); // [MQTT-3.3.1-4]
    const topic = r.string("topic name");
    if (/[+#]/.test(topic)) throw new MalformedPacket(`PUBLISH to a topic with wildcards: ${topic}`); // [MQTT-3.3.2-2]
    const packetId = qos > 0 ? r.packetId() : undefined;
    return { type: "publish", topic, payload: r.rest(), qos, retain: (flags & 1) === 1, dup: (flags & 8) === 8, packetId };
  } },
  [PUBACK]: { name: "PUBACK", flags: 0, decode(r) {
    const packetId = r.packetId();
    r.end();
    return { type: "puback", packetId };
  } },
  [SUBACK]: { name: "SUBACK", flags: 0, decode(r) {
    const packetId = r.packetId();
    const granted = Array.from(r.rest());
    if (granted.length === 0) throw new MalformedPacket("SUBACK without return codes");
    for (const g of granted) {
      if (g > 2 && g !== 0x80) throw new MalformedPacket(`SUBACK return code 0x${g.toString(16)}`); // [MQTT-3.9.3-2]
    }
    return { type: "suback", packetId, granted };
  } },
  [UNSUBACK]: { name: "UNSUBACK", flags: 0, decode(r) {
    const packetId = r.packetId();
    r.end();
    return { type: "unsuback", packetId };
  } },
  [PINGRESP]: { name: "PINGRESP", flags: 0, decode(r) {
    r.end();
    return { type: "pingresp" };
  } },
};

function decodePacket(byte1, body) {
  const type = byte1 >> 4;
  const flags = byte1 & 0x0f;
  const d = decoders[type];
  if (!d) throw new MalformedPacket(`packet type ${type} is not one a server sends a client`);
  if (d.flags !== null && flags !== d.flags) {
    throw new MalformedPacket(`${d.name} with flags 0x${flags.toString(16)}`);
  }
  return d.decode(new Reader(d.name, body), flags);
}

// PacketReader decodes the packets of a byte stream that arrives in pieces:
// over WebSocket, packets need not align with messages [MQTT-6.0.0-2].
// After push throws, the stream is lost: the connection must be closed.
export class PacketReader {
  #buf = new Uint8Array(1024);
  #start = 0; // the first byte not yet decoded
  #end = 0; // the end of the bytes received

  // push adds bytes (a Uint8Array or ArrayBuffer) and returns the packets
  // they complete, perhaps none.
  push(bytes) {
    if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
    this.#append(bytes);
    const packets = [];
    for (;;) {
      const buf = this.#buf;
      if (this.#end - this.#start < 2) break;
      const rl = decodeRemainingLength(buf, this.#start + 1, this.#end);
      if (rl === null) break;
      const bodyStart = this.#start + 1 + rl.length;
      const bodyEnd = bodyStart + rl.value;
      if (bodyEnd > this.#end) break;
      packets.push(decodePacket(buf[this.#start], buf.subarray(bodyStart, bodyEnd)));
      this.#start = bodyEnd;
    }
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      if (this.#buf.length > 65536) this.#buf = new Uint8Array(1024); // after a large packet
    }
    return packets;
  }

  #append(bytes) {
    const live = this.#end - this.#start;
    if (this.#end + bytes.length > this.#buf.length) {
      if (live + bytes.length > this.#buf.length) {
        const buf = new Uint8Array(Math.max(2 * this.#buf.length, live + bytes.length));
        buf.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = buf;
      } else {
        this.#buf.copyWithin(0, this.#start, this.#end);
      }
      this.#start = 0;
      this.#end = live;
    }
    this.#buf.set(bytes, this.#end);
    this.#end += bytes.length;
  }
}
