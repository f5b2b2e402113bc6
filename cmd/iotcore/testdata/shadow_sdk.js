// A device's shadow flow with the AWS IoT Device SDK v2 for JavaScript's
// iotshadow client (IotShadowClient), as AWS's shadow sample runs it, over
// mutual TLS. cmd/iotcore/shadow_test.go runs it against iotcore.
//
// usage: node shadow_sdk.js HOST PORT CA.pem CERT.pem KEY.pem THING
// Prints one JSON line per step on standard output; says "waiting for delta"
// on standard error once it waits for an application's desired change.
'use strict';

const fs = require('fs');
const { iot, mqtt, iotshadow } = require('aws-iot-device-sdk-v2');

const QOS = mqtt.QoS.AtLeastOnce;

function say(step, value) {
  process.stdout.write(JSON.stringify({ step, value }) + '\n');
}

// once subscribes with subscribe and resolves with the first response.
async function once(subscribe, request) {
  let resolve, reject;
  const p = new Promise((res, rej) => { resolve = res; reject = rej; });
  await subscribe(request, QOS, (error, response) => (error ? reject(error) : resolve(response)));
  return p;
}

async function main() {
  const [host, port, ca, certPath, keyPath, thingName] = process.argv.slice(2);
  const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(fs.readFileSync(certPath, 'utf8'), fs.readFileSync(keyPath, 'utf8'))
    .with_endpoint(host)
    .with_port(Number(port))
    .with_certificate_authority_from_path(undefined, ca)
    .with_client_id(thingName)
    .with_clean_session(true)
    .build();
  const connection = new mqtt.MqttClient().new_connection(config);
  await connection.connect();
  const shadow = new iotshadow.IotShadowClient(connection);
  const sub = (fn) => fn.bind(shadow);

  // 1. Get of a new shadow: rejected, 404.
  const getRejected = once(sub(shadow.subscribeToGetShadowRejected), { thingName });
  await shadow.subscribeToGetShadowAccepted({ thingName }, QOS, () => {});
  await shadow.publishGetShadow({ thingName, clientToken: 'get-1' }, QOS);
  const rej = await getRejected;
  say('get-new', { code: rej.code, clientToken: rej.clientToken });

  // 2. Report the device's state.
  await shadow.subscribeToUpdateShadowRejected({ thingName }, QOS, (error, r) => say('update-rejected', r));
  const accepted = once(sub(shadow.subscribeToUpdateShadowAccepted), { thingName });
  await shadow.publishUpdateShadow({ thingName, state: { reported: { on: false, brightness: 10 } }, clientToken: 'up-1' }, QOS);
  const acc = await accepted;
  say('update-reported', { version: acc.version, reported: acc.state.reported, clientToken: acc.clientToken });

  // 3. An application changes the desired state; the device hears a delta.
  const delta = once(sub(shadow.subscribeToShadowDeltaUpdatedEvents), { thingName });
  process.stderr.write('waiting for delta\n');
  const d = await delta;
  say('delta', { version: d.version, state: d.state });

  // 4. The device reports the change: get shows no delta any more.
  await shadow.publishUpdateShadow({ thingName, state: { reported: d.state } }, QOS);
  const got = once(sub(shadow.subscribeToGetShadowAccepted), { thingName });
  await shadow.publishGetShadow({ thingName }, QOS);
  const g = await got;
  say('get', { version: g.version, desired: g.state.desired, reported: g.state.reported, delta: g.state.delta || null });

  // 5. A named shadow.
  const shadowName = 'config';
  const namedAccepted = once(sub(shadow.subscribeToUpdateNamedShadowAccepted), { thingName, shadowName });
  await shadow.publishUpdateNamedShadow({ thingName, shadowName, state: { reported: { interval: 30 } } }, QOS);
  const na = await namedAccepted;
  say('named', { version: na.version, reported: na.state.reported });

  // 6. Delete the classic shadow: get is 404 again.
  const deleted = once(sub(shadow.subscribeToDeleteShadowAccepted), { thingName });
  await shadow.publishDeleteShadow({ thingName }, QOS);
  const del = await deleted;
  const gone = once(sub(shadow.subscribeToGetShadowRejected), { thingName });
  await shadow.publishGetShadow({ thingName }, QOS);
  say('delete', { version: del.version, getAfter: (await gone).code });

  await connection.disconnect();
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`error: ${err && err.stack || JSON.stringify(err)}\n`);
  process.exit(1);
});
