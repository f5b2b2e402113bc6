package awsapi

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/iotcore/iotcore/internal/iot"
)

// DataPlaneSigningName is the SigV4 signing name of the AWS IoT data plane
// (botocore's iot-data model, 2015-05-28: signingName "iotdata"). A Server
// serves its routes only to requests signed for it, and the control plane's
// only to requests signed for anything else its Verifier accepts; the
// Verifier must list it (in ServiceAliases) for the data plane to be reached.
const DataPlaneSigningName = "iotdata"

// AWS IoT Core's limits on a published message [AWS 8.4]: the topic's
// bytes and levels, the Basic Ingest prefix $aws/rules/<rule>/ not
// counted, and the payload.
const (
	MaxPublishTopicBytes   = 256
	MaxPublishTopicLevels  = 8
	MaxPublishPayloadBytes = 128 << 10
)

// basicIngestPrefix starts Basic Ingest topics, $aws/rules/<rule>/..., whose
// first three levels do not count against the topic limits [AWS 8.4].
const basicIngestPrefix = "$aws/rules/"

// DataPublisher delivers the messages of the data plane's Publish: to the
// subscribers whose policies let them receive it, and to the rules engine
// (a Basic Ingest topic to its rule alone). The MQTT broker implements it.
type DataPublisher interface {
	Publish(topic string, payload []byte, retain bool, qos byte) error
}

// dataRoutes lists the data-plane operations served, with the method and
// request URI of the iot-data model; TestDataRoutesMatchModel checks them.
func dataRoutes() []route {
	return []route{
		// {topic} is a single label in the model, so the SDKs send a/b as
		// a%2Fb; a client that writes the slashes (curl, AWS's HTTPS
		// publish examples) reaches the same topic: the label is the rest
		// of the path, decoded once.
		{Op: "Publish", Method: "POST", Pattern: "/topics/{topic}", handle: publish, rest: true, dataPlane: true},
		{Op: "GetThingShadow", Method: "GET", Pattern: "/things/{thingName}/shadow", handle: getThingShadow, dataPlane: true},
		{Op: "UpdateThingShadow", Method: "POST", Pattern: "/things/{thingName}/shadow", handle: updateThingShadow, dataPlane: true},
		{Op: "DeleteThingShadow", Method: "DELETE", Pattern: "/things/{thingName}/shadow", handle: deleteThingShadow, dataPlane: true},
		{Op: "ListNamedShadowsForThing", Method: "GET", Pattern: "/api/things/shadow/ListNamedShadowsForThing/{thingName}", handle: listNamedShadowsForThing, dataPlane: true},
	}
}

// publish is iot-data Publish: the body, whatever its bytes, is the
// payload. The MQTT 5 members (userProperties, payloadFormatIndicator,
// contentType, responseTopic, correlationData, messageExpiry) are accepted
// and not passed on: DataPublisher carries MQTT 3.1.1 messages.
//
// The caller holds the admin credentials, an IAM identity: as for an IAM
// user on AWS, no IoT policy applies to its publish.
func publish(s *Server, r *request) (any, error) {
	topic := r.label("topic")
	qos, ok, err := r.queryInt("qos")
	switch {
	case err != nil:
		return nil, err
	case ok && qos != 0 && qos != 1:
		// The model bounds qos to 0..1; AWS IoT Core has no QoS 2 [AWS 8.2].
		return nil, iot.Errorf(iot.InvalidRequest, "qos must be 0 or 1, got %d", qos)
	}
	retain, err := r.queryBool("retain")
	if err != nil {
		return nil, err
	}
	if err := checkPublishTopic(topic, retain); err != nil {
		return nil, err
	}
	if len(r.body) > MaxPublishPayloadBytes {
		return nil, iot.Errorf(iot.InvalidRequest, "the payload is %d bytes, more than the %d bytes (128 KiB) a message may have",
			len(r.body), MaxPublishPayloadBytes)
	}
	// The broker may keep the payload (retained, queued for a subscriber)
	// after this request's body is given back.
	if err := s.Data.Publish(topic, bytes.Clone(r.body), retain, byte(qos)); err != nil {
		return nil, fmt.Errorf("publish to %q: %w", topic, err)
	}
	return nil, nil
}

// checkPublishTopic checks a topic name as AWS IoT Core does before it
// accepts a message: a UTF-8 topic name without wildcards [MQTT-1.5.4-1]
// [MQTT-1.5.4-2] [MQTT-3.3.2-2], within the limits [AWS 8.4], not one of the
// topics only the server publishes on, and not retained if reserved ($...)
// [AWS 8.3].
func checkPublishTopic(topic string, retain bool) error {
	limited := topic
	if rest, ok := strings.CutPrefix(topic, basicIngestPrefix); ok {
		if _, after, ok := strings.Cut(rest, "/"); ok {
			limited = after
		}
	}
	switch {
	case topic == "":
		return iot.Errorf(iot.InvalidRequest, "the topic must not be empty")
	case !utf8.ValidString(topic) || strings.ContainsRune(topic, 0):
		return iot.Errorf(iot.InvalidRequest, "the topic must be UTF-8 text without U+0000")
	case strings.ContainsAny(topic, "+#"):
		return iot.Errorf(iot.InvalidRequest, "the topic %q contains a wildcard (+ or #): publish to a topic name, not a filter", topic)
	case len(limited) > MaxPublishTopicBytes:
		return iot.Errorf(iot.InvalidRequest, "the topic is %d bytes, more than %d (a Basic Ingest prefix $aws/rules/<rule>/ not counted)",
			len(limited), MaxPublishTopicBytes)
	case strings.Count(limited, "/")+1 > MaxPublishTopicLevels:
		return iot.Errorf(iot.InvalidRequest, "the topic has %d levels, more than %d (a Basic Ingest prefix $aws/rules/<rule>/ not counted)",
			strings.Count(limited, "/")+1, MaxPublishTopicLevels)
	case strings.HasPrefix(topic, "$aws/events/") || strings.HasPrefix(topic, "$iotcore/"):
		// Lifecycle, registry and iotcore's own events: only the server
		// publishes them, as the broker holds devices to.
		return iot.Errorf(iot.InvalidRequest, "the topic %q is reserved for events the server publishes", topic)
	case retain && strings.HasPrefix(topic, "$"):
		return iot.Errorf(iot.InvalidRequest, "the topic %q is reserved ($): its messages cannot be retained", topic)
	}
	return nil
}

// noRoute is the answer to a verified request that reaches no operation.
type noRoute struct {
	status        int
	code, message string
}

// match finds the operation of a verified request signed for service: a
// data-plane one if signed for DataPlaneSigningName, a control-plane one
// otherwise.
func (s *Server) match(hr *http.Request, service string) (*route, map[string]string, *noRoute) {
	path := rawPath(hr)
	if service == DataPlaneSigningName {
		rt, labels, known := s.dataRouter.match(hr.Method, path)
		switch {
		case rt == nil && known:
			return nil, nil, &noRoute{http.StatusMethodNotAllowed, "MethodNotAllowedException",
				fmt.Sprintf("%s is not allowed on %s", clip(hr.Method), clip(hr.URL.Path))}
		case rt == nil:
			return nil, nil, &noRoute{http.StatusNotFound, unknownOperation, unimplementedDataOperation(hr.Method, hr.URL.Path)}
		case s.Data == nil:
			return nil, nil, &noRoute{http.StatusNotFound, unknownOperation, noDataPlane}
		}
		return rt, labels, nil
	}
	rt, labels, known := s.router.match(hr.Method, path)
	if rt != nil && rt.handle != nil {
		return rt, labels, nil
	}
	if d, _, _ := s.dataRouter.match(hr.Method, path); d != nil {
		// AWS's data endpoint answers a request signed for the control
		// plane so.
		return nil, nil, &noRoute{http.StatusForbidden, "InvalidSignatureException",
			fmt.Sprintf("Credential should be scoped to correct service: '%s'.", DataPlaneSigningName)}
	}
	if rt != nil {
		return nil, nil, &noRoute{http.StatusNotFound, unknownOperation, unservedOperation(rt)}
	}
	if known {
		return nil, nil, &noRoute{http.StatusMethodNotAllowed, "MethodNotAllowedException",
			fmt.Sprintf("%s is not allowed on %s", clip(hr.Method), clip(hr.URL.Path))}
	}
	return nil, nil, &noRoute{http.StatusNotFound, unknownOperation, unimplementedOperation(hr.Method, hr.URL.Path)}
}

// noDataPlane is the message of a data-plane call to a Server without Data.
const noDataPlane = "this iotcore API has no MQTT broker to publish to (awsapi.Server.Data is not set): " +
	"the data plane (aws iot-data) is not served"

// unimplementedDataOperation is the message for a data-plane request to a
// route iotcore does not serve.
func unimplementedDataOperation(method, path string) string {
	return fmt.Sprintf("iotcore does not implement the AWS IoT data-plane operation at %s %s: of the data plane "+
		"(signing name %q, aws iot-data) it implements Publish and the device shadow operations "+
		"(GetThingShadow, UpdateThingShadow, DeleteThingShadow, ListNamedShadowsForThing); retained-message queries "+
		"and DeleteConnection are not served. %s.",
		clip(method), clip(path), DataPlaneSigningName, implemented)
}
