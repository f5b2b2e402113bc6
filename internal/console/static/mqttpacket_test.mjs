// Tests of mqttpacket.js: node --test internal/console/static/mqttpacket_test.mjs
// (Node's built-in runner, no packages). Expected bytes are written out by
// hand from the MQTT 3.1.1 specification.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

// mqttpacket.js is an ES module named .js, as the browser wants it, in no
// "type": "module" package: Node before 20.19 would load it as CommonJS, so
// it is imported as a data: URL, which is always a module.
const source = await readFile(new URL("./mqttpacket.js", import.meta.url), "utf8");
const {
  PacketReader,
  encodeConnect,
  encodeSubscribe,
  encodeUnsubscribe,
  encodePublish,
  encodePuback,
  encodePingreq,
  encodeDisconnect,
  encodeRemainingLength,
  decodeRemainingLength,
  MAX_REMAINING_LENGTH,
} = await import(`data:text/javascript;base64,${Buffer.from(source).toString("base64")}`);

const bytes = (...b) => Uint8Array.from(b.flat());
const ascii = (s) => Array.from(s, (c) => c.charCodeAt(0));
const utf8 = (s) => new TextEncoder().encode(s);
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) {
    out.set(p, i);
    i += p.length;
  }
  return out;
};

// decodeClientPacket decodes what a client sends and the reader does not
// (CONNECT, SUBSCRIBE, UNSUBSCRIBE), strictly, to check the encoders.
function decodeClientPacket(p) {
  const { value: length, length: n } = decodeRemainingLength(p, 1);
  assert.equal(p.length, 1 + n + length, "remaining length");
  let i = 1 + n;
  const u16 = () => {
    const v = (p[i] << 8) | p[i + 1];
    i += 2;
    return v;
  };
  const str = () => {
    const len = u16();
    const s = new TextDecoder("utf-8", { fatal: true }).decode(p.subarray(i, i + len));
    i += len;
    return s;
  };
  switch (p[0]) {
    case 0x10: {
      assert.equal(str(), "MQTT");
      assert.equal(p[i++], 4, "protocol level");
      const flags = p[i++];
      assert.equal(flags & 0xfd, 0, "only the clean session flag may be set");
      const keepAlive = u16();
      const clientId = str();
      assert.equal(i, p.length);
      return { type: "connect", clientId, keepAlive, cleanSession: flags === 2 };
    }
    case 0x82: {
      const packetId = u16();
      const filters = [];
      while (i < p.length) filters.push({ filter: str(), qos: p[i++] });
      return { type: "subscribe", packetId, filters };
    }
    case 0xa2: {
      const packetId = u16();
      const filters = [];
      while (i < p.length) filters.push(str());
      return { type: "unsubscribe", packetId, filters };
    }
  }
  throw new Error(`not a client packet: 0x${p[0].toString(16)}`);
}

test("CONNECT", () => {
  const p = encodeConnect({ clientId: "abc", keepAlive: 60, cleanSession: true });
  assert.deepEqual(p, bytes(0x10, 15, 0, 4, ascii("MQTT"), 4, 0x02, 0, 60, 0, 3, ascii("abc")));
  assert.deepEqual(decodeClientPacket(p), { type: "connect", clientId: "abc", keepAlive: 60, cleanSession: true });

  const q = encodeConnect({ clientId: "é", keepAlive: 0x1234, cleanSession: false });
  assert.deepEqual(q, bytes(0x10, 14, 0, 4, ascii("MQTT"), 4, 0x00, 0x12, 0x34, 0, 2, 0xc3, 0xa9));
  assert.deepEqual(decodeClientPacket(q), { type: "connect", clientId: "é", keepAlive: 0x1234, cleanSession: false });

  assert.throws(() => encodeConnect({ clientId: "", cleanSession: false }), /clean session/);
  assert.throws(() => encodeConnect({ clientId: "a", keepAlive: 65536 }), /keep-alive/);
  assert.throws(() => encodeConnect({ clientId: "x".repeat(65536) }), /65535/);
});

test("SUBSCRIBE", () => {
  const one = encodeSubscribe(10, [{ filter: "a/b", qos: 1 }]);
  assert.deepEqual(one, bytes(0x82, 8, 0, 10, 0, 3, ascii("a/b"), 1));
  const two = encodeSubscribe(0x1234, [{ filter: "a/b", qos: 1 }, { filter: "c/#", qos: 0 }]);
  assert.deepEqual(two, bytes(0x82, 14, 0x12, 0x34, 0, 3, ascii("a/b"), 1, 0, 3, ascii("c/#"), 0));
  assert.deepEqual(decodeClientPacket(two), {
    type: "subscribe",
    packetId: 0x1234,
    filters: [{ filter: "a/b", qos: 1 }, { filter: "c/#", qos: 0 }],
  });

  assert.throws(() => encodeSubscribe(0, [{ filter: "a", qos: 0 }]), /packet identifier 0/);
  assert.throws(() => encodeSubscribe(65536, [{ filter: "a", qos: 0 }]), /packet identifier/);
  assert.throws(() => encodeSubscribe(1, []), /at least one/);
  assert.throws(() => encodeSubscribe(1, [{ filter: "", qos: 0 }]), /empty/);
  assert.throws(() => encodeSubscribe(1, [{ filter: "a", qos: 2 }]), /QoS 2/);
});

test("UNSUBSCRIBE", () => {
  const p = encodeUnsubscribe(10, ["a/b", "+/c"]);
  assert.deepEqual(p, bytes(0xa2, 12, 0, 10, 0, 3, ascii("a/b"), 0, 3, ascii("+/c")));
  assert.deepEqual(decodeClientPacket(p), { type: "unsubscribe", packetId: 10, filters: ["a/b", "+/c"] });
  assert.throws(() => encodeUnsubscribe(1, []), /at least one/);
});

test("PUBLISH", () => {
  const qos0 = encodePublish({ topic: "a/b", payload: utf8("hi"), qos: 0, retain: false });
  assert.deepEqual(qos0, bytes(0x30, 7, 0, 3, ascii("a/b"), ascii("hi")));
  const qos1 = encodePublish({ topic: "a/b", payload: utf8("hi"), qos: 1, retain: true, packetId: 10 });
  assert.deepEqual(qos1, bytes(0x33, 9, 0, 3, ascii("a/b"), 0, 10, ascii("hi")));
  const empty = encodePublish({ topic: "t", payload: new Uint8Array(0), qos: 0 });
  assert.deepEqual(empty, bytes(0x30, 3, 0, 1, ascii("t")));

  const r = new PacketReader();
  assert.deepEqual(r.push(qos0), [
    { type: "publish", topic: "a/b", payload: utf8("hi"), qos: 0, retain: false, dup: false, packetId: undefined },
  ]);
  assert.deepEqual(r.push(qos1), [
    { type: "publish", topic: "a/b", payload: utf8("hi"), qos: 1, retain: true, dup: false, packetId: 10 },
  ]);
  assert.deepEqual(r.push(empty)[0].payload, new Uint8Array(0));
  // DUP, as a server would set it on a redelivery.
  assert.equal(r.push(bytes(0x3a, 6, 0, 1, ascii("t"), 0, 5, ascii("x")))[0].dup, true);

  assert.throws(() => encodePublish({ topic: "a/#", payload: utf8("x") }), /wildcards/);
  assert.throws(() => encodePublish({ topic: "a/+/b", payload: utf8("x") }), /wildcards/);
  assert.throws(() => encodePublish({ topic: "", payload: utf8("x") }), /empty/);
  assert.throws(() => encodePublish({ topic: "a", payload: utf8("x"), qos: 1 }), /packet identifier/);
  assert.throws(() => encodePublish({ topic: "a", payload: "x" }), /Uint8Array/);
});

test("PUBACK, PINGREQ, DISCONNECT", () => {
  const puback = encodePuback(0x1234);
  assert.deepEqual(puback, bytes(0x40, 2, 0x12, 0x34));
  assert.deepEqual(new PacketReader().push(puback), [{ type: "puback", packetId: 0x1234 }]);
  assert.deepEqual(encodePingreq(), bytes(0xc0, 0));
  assert.deepEqual(encodeDisconnect(), bytes(0xe0, 0));
});

test("the packets a server sends", () => {
  const r = new PacketReader();
  assert.deepEqual(r.push(bytes(0x20, 2, 0, 0)), [{ type: "connack", sessionPresent: false, returnCode: 0 }]);
  assert.deepEqual(r.push(bytes(0x20, 2, 1, 0)), [{ type: "connack", sessionPresent: true, returnCode: 0 }]);
  assert.deepEqual(r.push(bytes(0x20, 2, 0, 5)), [{ type: "connack", sessionPresent: false, returnCode: 5 }]);
  assert.deepEqual(r.push(bytes(0x90, 5, 0, 10, 0, 1, 0x80)), [{ type: "suback", packetId: 10, granted: [0, 1, 0x80] }]);
  assert.deepEqual(r.push(bytes(0xb0, 2, 0xff, 0xff)), [{ type: "unsuback", packetId: 0xffff }]);
  assert.deepEqual(r.push(bytes(0xd0, 0)), [{ type: "pingresp" }]);
  // An ArrayBuffer, as WebSocket delivers.
  assert.deepEqual(r.push(bytes(0xd0, 0).buffer), [{ type: "pingresp" }]);
  assert.deepEqual(r.push(new Uint8Array(0)), []);
});

// The table of [MQTT-2.2.3]: each boundary of the remaining length's bytes.
const remainingLengths = [
  [0, [0x00]],
  [127, [0x7f]],
  [128, [0x80, 0x01]],
  [16383, [0xff, 0x7f]],
  [16384, [0x80, 0x80, 0x01]],
  [2097151, [0xff, 0xff, 0x7f]],
  [2097152, [0x80, 0x80, 0x80, 0x01]],
  [268435455, [0xff, 0xff, 0xff, 0x7f]],
];

test("remaining length, both ways", () => {
  for (const [n, encoded] of remainingLengths) {
    assert.deepEqual(encodeRemainingLength(n), bytes(encoded), `encoding ${n}`);
    assert.deepEqual(decodeRemainingLength(bytes(encoded)), { value: n, length: encoded.length }, `decoding ${n}`);
    // Incomplete: waits for more.
    assert.equal(decodeRemainingLength(bytes(encoded.slice(0, -1))), null, `decoding part of ${n}`);
  }
  assert.equal(MAX_REMAINING_LENGTH, 268435455);
  assert.throws(() => encodeRemainingLength(268435456), RangeError);
  assert.throws(() => encodeRemainingLength(-1), RangeError);
  assert.throws(() => encodeRemainingLength(1.5), RangeError);
  assert.throws(() => decodeRemainingLength(bytes(0xff, 0xff, 0xff, 0xff, 0x01)), /longer than 4 bytes/);
});

test("remaining length in whole packets", () => {
  // PINGRESP: remaining length 0.
  assert.deepEqual(new PacketReader().push(bytes(0xd0, 0x00)), [{ type: "pingresp" }]);
  for (const [n, encoded] of remainingLengths) {
    if (n === 0 || n > 2097152) continue;
    // Topic "a/b" takes 5 bytes: 2 of length, 3 of name.
    const payload = new Uint8Array(n - 5).map((_, i) => i % 251);
    const p = encodePublish({ topic: "a/b", payload, qos: 0 });
    assert.deepEqual(p.subarray(0, 1 + encoded.length), bytes(0x30, encoded), `header of a PUBLISH of remaining length ${n}`);
    assert.equal(p.length, 1 + encoded.length + n);
    const got = new PacketReader().push(p);
    assert.equal(got.length, 1);
    assert.equal(got[0].topic, "a/b");
    assert.deepEqual(got[0].payload, payload, `payload of a PUBLISH of remaining length ${n}`);
  }
  // The largest: 256 MiB are not allocated here, but the header is accepted
  // and the reader waits for the rest.
  const r = new PacketReader();
  assert.deepEqual(r.push(bytes(0x30, 0xff, 0xff, 0xff, 0x7f, 0, 3, ascii("a/b"))), []);
  assert.deepEqual(r.push(new Uint8Array(1000)), []);
});

test("a packet split byte by byte", () => {
  const payload = new Uint8Array(300).map((_, i) => i & 0xff); // a 2-byte remaining length
  const packets = [
    bytes(0x20, 2, 0, 0),
    bytes(0x90, 3, 0, 1, 1),
    encodePublish({ topic: "dev/é", payload, qos: 1, retain: true, packetId: 7 }),
    bytes(0xd0, 0),
  ];
  const want = [
    { type: "connack", sessionPresent: false, returnCode: 0 },
    { type: "suback", packetId: 1, granted: [1] },
    { type: "publish", topic: "dev/é", payload, qos: 1, retain: true, dup: false, packetId: 7 },
    { type: "pingresp" },
  ];
  const r = new PacketReader();
  const got = [];
  for (const [k, p] of packets.entries()) {
    for (let i = 0; i < p.length; i++) {
      const out = r.push(p.subarray(i, i + 1));
      if (i < p.length - 1) {
        assert.deepEqual(out, [], `packet ${k} after ${i + 1} of ${p.length} bytes`);
      } else {
        assert.equal(out.length, 1, `packet ${k} complete`);
        got.push(...out);
      }
    }
  }
  assert.deepEqual(got, want);
});

test("two packets in one push, and pieces across pushes", () => {
  const r = new PacketReader();
  assert.deepEqual(r.push(bytes(0x20, 2, 0, 0, 0x40, 2, 0, 9)), [
    { type: "connack", sessionPresent: false, returnCode: 0 },
    { type: "puback", packetId: 9 },
  ]);
  // One packet and the start of the next; its payload must survive the
  // reader's reuse of its buffer.
  const first = r.push(bytes(0x30, 5, 0, 1, ascii("t"), ascii("ab"), 0x30, 5, 0));
  assert.equal(first.length, 1);
  const second = r.push(bytes(1, ascii("u"), ascii("cd"), 0xd0));
  assert.deepEqual(first[0].payload, utf8("ab"));
  assert.equal(second[0].topic, "u");
  assert.deepEqual(second[0].payload, utf8("cd"));
  assert.deepEqual(r.push(bytes(0)), [{ type: "pingresp" }]);
});

test("the reader reuses its buffer, not the packets it returned", () => {
  const r = new PacketReader();
  const [first] = r.push(encodePublish({ topic: "t", payload: utf8("ab") }));
  const [second] = r.push(encodePublish({ topic: "t", payload: utf8("zz") }));
  assert.deepEqual(first.payload, utf8("ab"));
  assert.deepEqual(second.payload, utf8("zz"));

  // A packet, then the start of another, then its rest, whatever the sizes
  // (the reader moves what it holds to the start of its buffer, or grows it).
  const next = new Uint8Array(50).map((_, i) => 100 + i);
  const p2 = encodePublish({ topic: "u", payload: next });
  for (let n = 0; n < 2200; n += 37) {
    const r = new PacketReader();
    const payload = new Uint8Array(n).map((_, i) => i & 0xff);
    const p1 = encodePublish({ topic: "t", payload });
    for (const k of [1, 2, 10, 40]) {
      const got = r.push(concat(p1, p2.subarray(0, k)));
      assert.equal(got.length, 1);
      assert.deepEqual(got[0].payload, payload, `first payload of ${n} bytes`);
      const rest = r.push(p2.subarray(k));
      assert.equal(rest.length, 1);
      assert.deepEqual(rest[0].payload, next, `second packet after ${n} and ${k} bytes`);
    }
  }
});

test("a large packet in pieces", () => {
  const payload = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
  const p = concat(encodePublish({ topic: "big", payload, qos: 0 }), bytes(0xd0, 0));
  const r = new PacketReader();
  const got = [];
  for (let i = 0; i < p.length; i += 999) got.push(...r.push(p.subarray(i, i + 999)));
  assert.equal(got.length, 2);
  assert.deepEqual(got[0].payload, payload);
  assert.deepEqual(got[1], { type: "pingresp" });
});

test("malformed packets throw", () => {
  const cases = [
    ["a remaining length of 5 bytes", bytes(0x30, 0xff, 0xff, 0xff, 0xff, 0x01), /remaining length longer than 4 bytes/],
    ["a truncated topic", bytes(0x30, 5, 0, 9, ascii("abc")), /PUBLISH ends in its topic name \(9 bytes needed, 3 left\)/],
    ["a truncated string length", bytes(0x30, 1, 0), /PUBLISH ends in its topic name's length/],
    ["a topic not UTF-8", bytes(0x30, 4, 0, 2, 0xc3, 0x28), /not UTF-8/],
    ["a topic with a wildcard", bytes(0x30, 5, 0, 3, ascii("a/#")), /wildcards/],
    ["PUBLISH with QoS 3", bytes(0x36, 5, 0, 1, ascii("t"), 0, 1), /QoS 3/],
    ["PUBLISH QoS 1 without its identifier", bytes(0x32, 4, 0, 1, ascii("t"), 0), /packet identifier/],
    ["PUBLISH QoS 1 with identifier 0", bytes(0x32, 5, 0, 1, ascii("t"), 0, 0), /packet identifier 0/],
    ["CONNACK with flags", bytes(0x21, 2, 0, 0), /CONNACK with flags 0x1/],
    ["CONNACK's reserved bits", bytes(0x20, 2, 2, 0), /reserved/],
    ["CONNACK too long", bytes(0x20, 3, 0, 0, 0), /1 bytes too many/],
    ["CONNACK too short", bytes(0x20, 1, 0), /CONNACK ends in its return code/],
    ["PUBACK with identifier 0", bytes(0x40, 2, 0, 0), /packet identifier 0/],
    ["SUBACK without return codes", bytes(0x90, 2, 0, 1), /without return codes/],
    ["SUBACK with return code 3", bytes(0x90, 3, 0, 1, 3), /return code 0x3/],
    ["PINGRESP with a body", bytes(0xd0, 1, 0), /too many/],
    ["CONNECT from a server", bytes(0x10, 0), /packet type 1/],
    ["reserved type 0", bytes(0x00, 0), /packet type 0/],
    ["reserved type 15", bytes(0xf0, 0), /packet type 15/],
  ];
  for (const [name, input, message] of cases) {
    assert.throws(() => new PacketReader().push(input), message, name);
    // Also when it arrives a byte at a time.
    const r = new PacketReader();
    assert.throws(() => {
      for (let i = 0; i < input.length; i++) r.push(input.subarray(i, i + 1));
    }, message, `${name}, byte by byte`);
  }
  for (const [, input] of cases) {
    assert.throws(
      () => new PacketReader().push(input),
      (err) => err instanceof Error && err.message.startsWith("malformed MQTT packet: "),
      "messages say what is wrong",
    );
  }
});
