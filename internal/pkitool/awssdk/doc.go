// Package awssdk adapts the AWS SDK for Go v2's IoT client to
// [pkitool.Registrar], so that `iotcore ca register` talks to iotcore, or to
// AWS IoT Core itself, exactly as the aws CLI does. Loading the SDK's
// configuration (credentials, region, endpoint) is left to the command line.
package awssdk
