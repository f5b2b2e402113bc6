// An MQTT client of the AWS IoT Device SDK v2 for JavaScript connecting as
// an IAM identity: MQTT over WebSocket with the SDK's own SigV4 signing
// (AwsIotMqttConnectionConfigBuilder.new_with_websockets, static credentials,
// service iotdevicegateway), as AWS's pub_sub sample does with
// --signing_region. cmd/iotcore/mqtt_test.go runs it against iotcore.
//
// usage: AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... node sigv4_websocket.js
//          HOST PORT CA.pem FILTER COUNT
// It subscribes to FILTER, says "subscribed" on standard error, and prints
// COUNT messages received, one JSON line each ({"topic", "payload"}), then exits 0.
'use strict';

const { auth, iot, mqtt } = require('aws-iot-device-sdk-v2');

async function main() {
  const [host, port, ca, filter, count] = process.argv.slice(2);
  const config = iot.AwsIotMqttConnectionConfigBuilder.new_with_websockets({
    region: 'us-east-1',
    credentials_provider: auth.AwsCredentialsProvider.newStatic(
      process.env.AWS_ACCESS_KEY_ID, process.env.AWS_SECRET_ACCESS_KEY),
  })
    .with_certificate_authority_from_path(undefined, ca)
    .with_endpoint(host)
    .with_port(Number(port))
    .with_client_id('sdk-js-sigv4-' + process.pid)
    .with_clean_session(true)
    .build();
  const connection = new mqtt.MqttClient().new_connection(config);
  await connection.connect();
  let left = Number(count);
  const done = new Promise((resolve) => {
    connection.subscribe(filter, mqtt.QoS.AtLeastOnce, (topic, payload) => {
      if (left <= 0) return;
      process.stdout.write(JSON.stringify({ topic, payload: Buffer.from(payload).toString('utf8') }) + '\n');
      if (--left === 0) resolve();
    }).then(() => process.stderr.write('subscribed\n'));
  });
  await done;
  await connection.disconnect();
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`error: ${err && err.stack || err}\n`);
  process.exit(1);
});
