// Package shadow is the pure logic of AWS IoT's Device Shadow service: the
// shadow documents, how an update request merges into one, their metadata,
// versions, delta and limits, the payloads the service publishes
// (get/accepted, update/accepted, update/delta, update/documents,
// delete/accepted) and its rejections (the error response document and the
// HTTP status of the REST API), and the shadow topics. It does no I/O: the
// caller stores the bytes Marshal returns, reads them back with Parse, and
// publishes or answers what Update, Get and Delete return.
//
// Documents follow AWS's, in these pages of the AWS IoT Core Developer
// Guide and General Reference:
//
//   - Device Shadow service documents (request, response, delta and error
//     documents; delta state; versioning; client tokens; empty sections;
//     arrays): https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-document.html
//   - Device Shadow MQTT topics (when each topic is published, update/delta's
//     contents): https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-mqtt.html
//   - Device Shadow REST API (GetThingShadow, UpdateThingShadow,
//     DeleteThingShadow): https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-rest-api.html
//   - Device Shadow error messages (codes and messages):
//     https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-error-messages.html
//   - Interacting with shadows (example payloads of every topic, optimistic
//     locking, deletes): https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-data-flow.html
//   - Using shadows in devices, and in apps and services:
//     https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-comms-device.html,
//     https://docs.aws.amazon.com/iot/latest/developerguide/device-shadow-comms-app.html
//   - Diagnosing problems with shadows (what the 8 KB limit counts):
//     https://docs.aws.amazon.com/iot/latest/developerguide/diagnosing-shadows.html
//   - AWS IoT Core endpoints and quotas, Device Shadow (size, depth, names):
//     https://docs.aws.amazon.com/general/latest/gr/iot-core.html#device-shadow-limits
//
// Where the pages are silent or disagree, AWS's own Greengrass
// ShadowManager (github.com/aws-greengrass/aws-greengrass-shadow-manager),
// written to behave as the cloud service does, and payloads AWS IoT was seen
// sending settled the reading; each such point is marked "AWS uncertain" in
// the code.
package shadow
