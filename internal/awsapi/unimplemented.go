package awsapi

import "fmt"

// unknownOperation is the exception for a request iotcore does not
// implement: an unknown route, or a service other than the control plane.
// AWS's API front ends answer unknown routes with it (404).
const unknownOperation = "UnknownOperationException"

// implemented says what iotcore serves, in the message of every
// UnknownOperationException.
const implemented = `iotcore implements only the AWS IoT control plane (signing name "iot": aws iot, ` +
	`the SDKs' IoT clients): things, thing types, thing groups and billing groups, certificates and CA certificates, ` +
	`policies, role aliases, provisioning templates, topic rules, tags, the registration code and DescribeEndpoint; ` +
	`of the data plane (signing name "iotdata": aws iot-data) Publish and the device shadow operations; ` +
	`devices publish and subscribe over MQTT`

// otherServices names, by signing name, the AWS services a client may send
// to iotcore by mistake.
var otherServices = map[string]string{
	"iotdata":             "the AWS IoT data plane (aws iot-data: Publish, device shadows, retained messages)",
	"iot-jobs-data":       "the AWS IoT jobs data plane (aws iot-jobs-data)",
	"IoTSecuredTunneling": "AWS IoT secure tunneling (aws iotsecuretunneling)",
	"iotdeviceadvisor":    "AWS IoT Core Device Advisor (aws iotdeviceadvisor)",
	"iotwireless":         "AWS IoT Wireless (aws iotwireless)",
	"iotfleetwise":        "AWS IoT FleetWise (aws iotfleetwise)",
	"greengrass":          "AWS IoT Greengrass (aws greengrass, greengrassv2)",
	"sts":                 "AWS STS (aws sts)",
	"iam":                 "AWS IAM (aws iam)",
}

// unimplementedService is the message for a request signed for a service
// iotcore does not implement.
func unimplementedService(service string) string {
	what := otherServices[service]
	if what == "" {
		what = "another AWS service"
	}
	return fmt.Sprintf("iotcore does not implement the service this request is signed for (%q: %s). %s.",
		clip(service), what, implemented)
}

// unservedOperation is the message for a request to an operation of AWS
// IoT's control plane that iotcore does not serve.
func unservedOperation(rt *route) string {
	return fmt.Sprintf("iotcore does not implement %s (%s %s); docs/api-coverage.md lists what it serves. %s.",
		rt.Op, rt.Method, rt.Pattern, implemented)
}

// unimplementedOperation is the message for a control-plane request to a
// route that is not AWS IoT's.
func unimplementedOperation(method, path string) string {
	return fmt.Sprintf("iotcore does not implement the operation at %s %s. %s.", clip(method), clip(path), implemented)
}
