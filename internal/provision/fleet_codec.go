package provision

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

// The topics of the device provisioning MQTT API (reference 6.1). <fmt> is
// json or cbor, and the payloads of the request and both replies are in
// that format (reference 6.3).
const (
	createTopicPrefix        = "$aws/certificates/create/"          // + fmt
	createFromCSRTopicPrefix = "$aws/certificates/create-from-csr/" // + fmt
	templatesTopicPrefix     = "$aws/provisioning-templates/"       // + name + "/provision/" + fmt
	provisionTopicInfix      = "/provision/"
	acceptedSuffix           = "/accepted"
	rejectedSuffix           = "/rejected"
)

// Payload formats, the last level of a request topic.
const (
	formatJSON = "json"
	formatCBOR = "cbor"
)

// fleetOp is an operation of the MQTT API.
type fleetOp string

const (
	opCreateKeysAndCertificate fleetOp = "CreateKeysAndCertificate"
	opCreateCertificateFromCsr fleetOp = "CreateCertificateFromCsr"
	opRegisterThing            fleetOp = "RegisterThing"
)

// fleetTopic is a parsed request topic.
type fleetTopic struct {
	op       fleetOp
	template string // RegisterThing's template name
	format   string // formatJSON or formatCBOR
}

// parseFleetTopic parses a request topic; ok is false for any other topic.
// A template name is any non-empty topic level without wildcards; whether
// it names a template is for the registry to say.
func parseFleetTopic(topic string) (fleetTopic, bool) {
	cut := func(prefix string) (string, bool) { return strings.CutPrefix(topic, prefix) }
	if f, ok := cut(createTopicPrefix); ok && isFormat(f) {
		return fleetTopic{op: opCreateKeysAndCertificate, format: f}, true
	}
	if f, ok := cut(createFromCSRTopicPrefix); ok && isFormat(f) {
		return fleetTopic{op: opCreateCertificateFromCsr, format: f}, true
	}
	rest, ok := cut(templatesTopicPrefix)
	if !ok {
		return fleetTopic{}, false
	}
	name, f, ok := strings.Cut(rest, provisionTopicInfix)
	if !ok || !isFormat(f) || name == "" || strings.ContainsAny(name, "/+#") {
		return fleetTopic{}, false
	}
	return fleetTopic{op: opRegisterThing, template: name, format: f}, true
}

func isFormat(s string) bool { return s == formatJSON || s == formatCBOR }

// IsFleetReplyTopic reports whether topic is where the server answers a
// fleet-provisioning request: the /accepted and /rejected topics of the
// three operations (reference 6.1). Only the server publishes there; a
// device may subscribe but not publish.
func IsFleetReplyTopic(topic string) bool {
	req, ok := strings.CutSuffix(topic, acceptedSuffix)
	if !ok {
		req, ok = strings.CutSuffix(topic, rejectedSuffix)
	}
	if !ok {
		return false
	}
	_, ok = parseFleetTopic(req)
	return ok
}

// The requests and replies, with AWS's field names (reference 6.1), in JSON
// and CBOR alike.
type (
	createKeysRequest struct{}

	createKeysAccepted struct {
		CertificateID             string `json:"certificateId" cbor:"certificateId"`
		CertificatePEM            string `json:"certificatePem" cbor:"certificatePem"`
		PrivateKey                string `json:"privateKey" cbor:"privateKey"`
		CertificateOwnershipToken string `json:"certificateOwnershipToken" cbor:"certificateOwnershipToken"`
	}

	createFromCSRRequest struct {
		CertificateSigningRequest string `json:"certificateSigningRequest" cbor:"certificateSigningRequest"`
	}

	createFromCSRAccepted struct {
		CertificateOwnershipToken string `json:"certificateOwnershipToken" cbor:"certificateOwnershipToken"`
		CertificateID             string `json:"certificateId" cbor:"certificateId"`
		CertificatePEM            string `json:"certificatePem" cbor:"certificatePem"`
	}

	registerThingRequest struct {
		CertificateOwnershipToken string            `json:"certificateOwnershipToken" cbor:"certificateOwnershipToken"`
		Parameters                map[string]string `json:"parameters" cbor:"parameters"`
	}

	registerThingAccepted struct {
		DeviceConfiguration map[string]string `json:"deviceConfiguration" cbor:"deviceConfiguration"`
		ThingName           string            `json:"thingName" cbor:"thingName"`
	}

	// rejectedReply is every /rejected payload.
	rejectedReply struct {
		StatusCode   int    `json:"statusCode" cbor:"statusCode"`
		ErrorCode    string `json:"errorCode" cbor:"errorCode"`
		ErrorMessage string `json:"errorMessage" cbor:"errorMessage"`
	}
)

// cborDecoder refuses duplicate map keys, so that no two readers of one
// payload can see different values, and indefinite-length items are
// bounded by the default limits.
var cborDecoder = func() cbor.DecMode {
	dm, err := cbor.DecOptions{DupMapKey: cbor.DupMapKeyEnforcedAPF}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()

// errNotObject says a payload is not a JSON object or CBOR map.
var errNotObject = errors.New("the payload is not an object")

// selfDescribedCBOR is the tag some encoders put first (RFC 8949 3.4.6).
var selfDescribedCBOR = []byte{0xd9, 0xd9, 0xf7}

// decodeRequest decodes a request payload in format into v, a pointer to
// one of the request structs. An empty payload is an empty request (the
// SDKs send one for CreateKeysAndCertificate); anything else must be one
// JSON object or CBOR map. Unknown fields are ignored.
func decodeRequest(format string, payload []byte, v any) error {
	if format == formatCBOR {
		payload = bytes.TrimPrefix(payload, selfDescribedCBOR)
		if len(payload) == 0 {
			return nil
		}
		if payload[0]>>5 != 5 { // major type 5: map
			return errNotObject
		}
		return cborDecoder.Unmarshal(payload, v)
	}
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 {
		return nil
	}
	if trimmed[0] != '{' {
		return errNotObject
	}
	d := json.NewDecoder(bytes.NewReader(trimmed))
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("data after the JSON object")
	}
	return nil
}

// encodeReply encodes a reply in format.
func encodeReply(format string, v any) ([]byte, error) {
	if format == formatCBOR {
		return cbor.Marshal(v)
	}
	return json.Marshal(v)
}
