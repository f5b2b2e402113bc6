// Package awsapi serves the AWS IoT control plane, and the data plane's
// Publish (iotdata.go), over HTTP in the restJson1 protocol, so that the
// unmodified aws CLI and AWS SDKs work against iotcore with only the endpoint
// changed.
//
// Routes, shapes and status codes follow the botocore models (iot and
// iot-data 2015-05-28); tests check every served route against them. Every request is verified with
// SigV4 (package sigv4) before anything is changed; its signature's header,
// key and time are checked before its body is read, and the bodies held at
// once are bounded. Refused requests are logged and audited at a bounded
// rate. Errors carry the AWS exception name in x-amzn-ErrorType and a JSON
// body {"message": ...}.
package awsapi
