// Package iot is the shared vocabulary of iotcore: errors keyed by AWS exception
// name, ARNs, resource-name rules and the enumerations of the AWS IoT API.
//
// It depends on the standard library only, so every other package may import it.
package iot
