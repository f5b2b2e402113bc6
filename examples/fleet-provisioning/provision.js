// A device that provisions itself by claim with the AWS IoT Device SDK v2 for
// JavaScript, as AWS's fleet provisioning sample does
// (aws-iot-device-sdk-js-v2 samples/node/fleet_provisioning): connect with
// the claim certificate over mutual TLS, get a certificate of its own
// (CreateKeysAndCertificate, or CreateCertificateFromCsr with --csr), register
// it with a fleet-provisioning template (RegisterThing), disconnect, connect
// again with the new certificate as the thing and publish a message it then
// receives on a topic the template's policy allows.
//
// The SDK's calls are AWS's, unchanged; only the endpoint, its port and the
// CA the server is trusted with (iotcore's <data-dir>/ca.pem) differ from a
// device talking to AWS IoT Core.
//
//   --api v1   iotidentity.IotIdentityClient: subscribe to accepted and
//              rejected, then publish (the sample's flow)
//   --api v2   iotidentity.IotIdentityClientv2, the request-response client
//   --mqtt 3   MQTT 3.1.1 (mqtt.MqttClientConnection)
//   --mqtt 5   MQTT 5 (mqtt5.Mqtt5Client)
//
// Progress goes to standard error; standard output gets one JSON line:
//   exit 0  {"thingName", "certificateId", "deviceConfiguration", "topic", ...}
//   exit 1  {"error"}: bad usage, or the connection failed
//   exit 2  {"rejected": step, "statusCode", "errorCode", "errorMessage", ...}
//   exit 3  {"timedOut": step}: no answer within --timeout seconds
'use strict';

const fs = require('fs');
const path = require('path');
const { once } = require('events');
const { parseArgs } = require('util');
const { iot, mqtt, mqtt5, iotidentity } = require('aws-iot-device-sdk-v2');

const usage = `usage: node provision.js --endpoint HOST --port PORT --ca CA.pem
    --cert CLAIM.crt --key CLAIM.key --template NAME [--param NAME=VALUE]...
    [--csr DEVICE.csr --csr-key DEVICE.key] [--api v1|v2] [--mqtt 3|5]
    [--client-id ID] [--topic 'devices/{thingName}/hello'] [--out-dir DIR]
    [--timeout SECONDS] [--no-reconnect]`;

let args;
try {
  ({ values: args } = parseArgs({ options: {
    endpoint: { type: 'string' },
    port: { type: 'string' },
    ca: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    template: { type: 'string' },
    param: { type: 'string', multiple: true, default: [] },
    csr: { type: 'string' },
    'csr-key': { type: 'string' },
    api: { type: 'string', default: 'v1' },
    mqtt: { type: 'string', default: '3' },
    'client-id': { type: 'string' },
    topic: { type: 'string', default: 'devices/{thingName}/hello' },
    'out-dir': { type: 'string' },
    timeout: { type: 'string', default: '30' },
    'no-reconnect': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  } }));
} catch (e) {
  console.error(`${e.message}\n${usage}`);
  process.exit(1);
}
if (args.help) {
  console.log(usage);
  process.exit(0);
}

// Outcome ends the run with one JSON line on standard output.
class Outcome extends Error {
  constructor(code, summary) {
    super(JSON.stringify(summary));
    this.code = code;
    this.summary = summary;
  }
}

const log = (...a) => console.error('fleet:', ...a);
const timeoutMs = Number(args.timeout) * 1000;
const state = {}; // what the run has learnt, added to every summary

for (const required of ['endpoint', 'port', 'ca', 'cert', 'key', 'template']) {
  if (!args[required]) {
    console.error(`--${required} is required\n${usage}`);
    process.exit(1);
  }
}
if (!['v1', 'v2'].includes(args.api) || !['3', '5'].includes(args.mqtt) || !(timeoutMs > 0) ||
    (args.csr && !args['csr-key'])) {
  console.error(usage);
  process.exit(1);
}
const parameters = {};
for (const p of args.param) {
  const i = p.indexOf('=');
  if (i <= 0) {
    console.error(`--param ${p}: want NAME=VALUE`);
    process.exit(1);
  }
  parameters[p.slice(0, i)] = p.slice(i + 1);
}

// within settles with promise, or fails with a timedOut outcome naming step.
function within(step, promise) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Outcome(3, { timedOut: step, ...state })), timeoutMs);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

// rejectedOutcome is the device-visible answer on a /rejected topic.
function rejectedOutcome(step, response) {
  const r = response || {};
  return new Outcome(2, {
    rejected: step, statusCode: r.statusCode, errorCode: r.errorCode, errorMessage: r.errorMessage, ...state,
  });
}

// A connection is either protocol's client, with the same three operations.
async function connect(certPem, keyPem, clientId) {
  const port = Number(args.port);
  if (args.mqtt === '5') {
    const builder = iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithMtlsFromMemory(args.endpoint, certPem, keyPem)
      .withPort(port)
      .withCertificateAuthorityFromPath(undefined, args.ca)
      .withConnectProperties({ clientId, keepAliveIntervalSeconds: 1200 });
    const client = new mqtt5.Mqtt5Client(builder.build());
    const connected = new Promise((resolve, reject) => {
      client.once('connectionSuccess', resolve);
      client.once('connectionFailure', (e) => reject(new Outcome(1, {
        error: `MQTT 5 connection failed: ${e.error}${e.connack ? ` (CONNACK reason code ${e.connack.reasonCode})` : ''}`, ...state,
      })));
    });
    client.start();
    try {
      await within('connect', connected);
    } catch (e) {
      client.close();
      throw e;
    }
    return {
      identityV1: () => iotidentity.IotIdentityClient.newFromMqtt5Client(client),
      identityV2: (o) => iotidentity.IotIdentityClientv2.newFromMqtt5(client, o),
      async subscribe(topic, onMessage) {
        client.on('messageReceived', (e) => {
          if (e.message.topicName === topic) onMessage(Buffer.from(e.message.payload).toString());
        });
        const suback = await client.subscribe({ subscriptions: [{ topicFilter: topic, qos: mqtt5.QoS.AtLeastOnce }] });
        const rc = suback.reasonCodes[0];
        if (rc > 2) throw new Outcome(1, { error: `SUBACK for ${topic}: reason code ${rc}`, ...state });
      },
      async publish(topic, payload) {
        const r = await client.publish({ topicName: topic, qos: mqtt5.QoS.AtLeastOnce, payload });
        const rc = r && r.reasonCode;
        if (rc !== undefined && rc >= 0x80) throw new Outcome(1, { error: `PUBACK for ${topic}: reason code ${rc}`, ...state });
      },
      async close() {
        const stopped = once(client, 'stopped');
        client.stop();
        await within('disconnect', stopped);
        client.close();
      },
    };
  }
  const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(certPem, keyPem)
    .with_endpoint(args.endpoint)
    .with_port(port)
    .with_certificate_authority_from_path(undefined, args.ca)
    .with_clean_session(false) // as the sample
    .with_client_id(clientId)
    .build();
  const connection = new mqtt.MqttClient().new_connection(config);
  try {
    await within('connect', connection.connect());
  } catch (e) {
    if (e instanceof Outcome) throw e;
    throw new Outcome(1, { error: `MQTT 3.1.1 connection failed: ${e}`, ...state });
  }
  return {
    identityV1: () => new iotidentity.IotIdentityClient(connection),
    identityV2: (o) => iotidentity.IotIdentityClientv2.newFromMqtt311(connection, o),
    async subscribe(topic, onMessage) {
      const r = await connection.subscribe(topic, mqtt.QoS.AtLeastOnce,
        (_topic, payload) => onMessage(Buffer.from(payload).toString()));
      if (r.error_code || r.qos === 128) throw new Outcome(1, { error: `SUBACK for ${topic}: failure`, ...state });
    },
    async publish(topic, payload) {
      await connection.publish(topic, payload, mqtt.QoS.AtLeastOnce);
    },
    async close() {
      await within('disconnect', connection.disconnect());
    },
  };
}

// The sample's flow: subscribe to accepted and rejected, publish, wait for
// one of the two.
async function requestV1(step, subscribeAccepted, subscribeRejected, publish) {
  let settle;
  const answered = new Promise((resolve, reject) => { settle = { resolve, reject }; });
  await subscribeAccepted(mqtt.QoS.AtLeastOnce, (error, response) => {
    if (error || !response) settle.reject(new Outcome(1, { error: `${step} accepted: ${error}`, ...state }));
    else settle.resolve(response);
  });
  await subscribeRejected(mqtt.QoS.AtLeastOnce, (error, response) => {
    settle.reject(error && !response ? new Outcome(1, { error: `${step} rejected: ${error}`, ...state }) : rejectedOutcome(step, response));
  });
  // The answer may come before the PUBACK: wait for it from now on.
  const waiting = within(step, answered);
  waiting.catch(() => {}); // handled below; not an unhandled rejection meanwhile
  log(`publishing ${step}`);
  await publish(mqtt.QoS.AtLeastOnce);
  return waiting;
}

// The request-response client: one call per operation.
async function requestV2(step, call) {
  log(`requesting ${step}`);
  try {
    return await within(step, call());
  } catch (e) {
    if (e instanceof Outcome) throw e;
    if (e && e.modeledError) throw rejectedOutcome(step, e.modeledError);
    throw new Outcome(1, { error: `${step}: ${e}`, ...state });
  }
}

async function provision() {
  const claimCert = fs.readFileSync(args.cert, 'utf8');
  const claimKey = fs.readFileSync(args.key, 'utf8');
  const csr = args.csr ? fs.readFileSync(args.csr, 'utf8') : undefined;
  const claimClientId = args['client-id'] || `claim-${process.pid}-${Date.now()}`;

  log(`connecting with the claim certificate as ${claimClientId} (MQTT ${args.mqtt === '5' ? '5' : '3.1.1'})`);
  const claim = await connect(claimCert, claimKey, claimClientId);
  log('connected');

  let created;
  let registered;
  if (args.api === 'v2') {
    const identity = claim.identityV2({
      maxRequestResponseSubscriptions: 6, maxStreamingSubscriptions: 2, operationTimeoutInSeconds: Number(args.timeout),
    });
    try {
      created = csr
        ? await requestV2('CreateCertificateFromCsr', () => identity.createCertificateFromCsr({ certificateSigningRequest: csr }))
        : await requestV2('CreateKeysAndCertificate', () => identity.createKeysAndCertificate({}));
      state.certificateId = created.certificateId;
      log(`got certificate ${created.certificateId}`);
      registered = await requestV2('RegisterThing', () => identity.registerThing({
        templateName: args.template, certificateOwnershipToken: created.certificateOwnershipToken, parameters,
      }));
    } finally {
      identity.close();
    }
  } else {
    const identity = claim.identityV1();
    if (csr) {
      created = await requestV1('CreateCertificateFromCsr',
        (qos, h) => identity.subscribeToCreateCertificateFromCsrAccepted({}, qos, h),
        (qos, h) => identity.subscribeToCreateCertificateFromCsrRejected({}, qos, h),
        (qos) => identity.publishCreateCertificateFromCsr({ certificateSigningRequest: csr }, qos));
    } else {
      created = await requestV1('CreateKeysAndCertificate',
        (qos, h) => identity.subscribeToCreateKeysAndCertificateAccepted({}, qos, h),
        (qos, h) => identity.subscribeToCreateKeysAndCertificateRejected({}, qos, h),
        (qos) => identity.publishCreateKeysAndCertificate({ toJSON() { return {}; } }, qos));
    }
    state.certificateId = created.certificateId;
    log(`got certificate ${created.certificateId}`);
    const sub = { templateName: args.template };
    registered = await requestV1('RegisterThing',
      (qos, h) => identity.subscribeToRegisterThingAccepted(sub, qos, h),
      (qos, h) => identity.subscribeToRegisterThingRejected(sub, qos, h),
      (qos) => identity.publishRegisterThing({
        templateName: args.template, certificateOwnershipToken: created.certificateOwnershipToken, parameters,
      }, qos));
  }
  state.thingName = registered.thingName;
  state.deviceConfiguration = registered.deviceConfiguration || {};
  log(`registered thing ${registered.thingName}`);
  await claim.close();
  log('disconnected the claim connection');

  for (const [field, value] of Object.entries({
    certificateId: created.certificateId, certificatePem: created.certificatePem,
    certificateOwnershipToken: created.certificateOwnershipToken, thingName: registered.thingName,
  })) {
    if (!value) throw new Outcome(1, { error: `the accepted answer has no ${field}`, ...state });
  }
  const deviceKey = csr ? fs.readFileSync(args['csr-key'], 'utf8') : created.privateKey;
  if (!deviceKey) throw new Outcome(1, { error: 'CreateKeysAndCertificate accepted has no privateKey', ...state });
  if (args['out-dir']) {
    const base = path.join(args['out-dir'], registered.thingName);
    fs.writeFileSync(`${base}.crt`, created.certificatePem, { mode: 0o600 });
    fs.writeFileSync(`${base}.key`, deviceKey, { mode: 0o600 });
  }
  if (args['no-reconnect']) return;

  // As AWS says: disconnect the claim session, connect with the new certificate.
  const topic = args.topic.replaceAll('{thingName}', registered.thingName);
  log(`connecting with the new certificate as ${registered.thingName}`);
  const device = await connect(created.certificatePem, deviceKey, registered.thingName);
  let received;
  const echo = new Promise((resolve) => { received = resolve; });
  await within(`subscribe ${topic}`, device.subscribe(topic, received));
  const message = JSON.stringify({ thingName: registered.thingName, hello: 'from a provisioned device' });
  await within(`publish ${topic}`, device.publish(topic, message));
  const got = await within(`the message on ${topic}`, echo);
  if (got !== message) throw new Outcome(1, { error: `received ${got} on ${topic}, want ${message}`, ...state });
  state.topic = topic;
  log(`published and received on ${topic}`);
  await device.close();
}

provision().then(() => {
  console.log(JSON.stringify({ api: args.api, mqtt: Number(args.mqtt), csr: Boolean(args.csr), ...state }));
  process.exit(0);
}, (e) => {
  if (e instanceof Outcome) {
    console.log(JSON.stringify(e.summary));
    process.exit(e.code);
  }
  console.error(e && e.stack || e);
  console.log(JSON.stringify({ error: String(e && e.message || e), ...state }));
  process.exit(1);
});
