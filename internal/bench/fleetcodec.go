package bench

import (
	"encoding/json"
	"fmt"
)

// The JSON payloads of fleet provisioning's MQTT API [AWS 6.1]; the field
// names are those of AWS's device SDKs.

// createdCertificate is the accepted answer of CreateKeysAndCertificate
// (with PrivateKey) or CreateCertificateFromCsr (without).
type createdCertificate struct {
	CertificateID             string `json:"certificateId"`
	CertificatePEM            string `json:"certificatePem"`
	PrivateKey                string `json:"privateKey"`
	CertificateOwnershipToken string `json:"certificateOwnershipToken"`
}

// check reports a field the device needs that the answer lacks.
func (cc *createdCertificate) check(wantKey bool) error {
	missing := ""
	switch {
	case cc.CertificateOwnershipToken == "":
		missing = "certificateOwnershipToken"
	case cc.CertificatePEM == "":
		missing = "certificatePem"
	case wantKey && cc.PrivateKey == "":
		missing = "privateKey"
	}
	if missing != "" {
		return &fleetError{why: "accepted without " + missing, msg: "the certificate's accepted answer has no " + missing}
	}
	return nil
}

// registeredThing is RegisterThing's accepted answer.
type registeredThing struct {
	DeviceConfiguration map[string]string `json:"deviceConfiguration"`
	ThingName           string            `json:"thingName"`
}

// RejectedError is a fleet-provisioning request answered on its rejected
// topic.
type RejectedError struct {
	// Topic is the request's topic.
	Topic        string `json:"-"`
	StatusCode   int    `json:"statusCode"`
	ErrorCode    string `json:"errorCode"`
	ErrorMessage string `json:"errorMessage"`
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("%s: rejected: %d %s: %s", e.Topic, e.StatusCode, e.ErrorCode, e.ErrorMessage)
}

// failureReason counts rejections by their errorCode.
func (e *RejectedError) failureReason() string {
	if e.ErrorCode == "" {
		return "rejected"
	}
	return "rejected: " + e.ErrorCode
}

// encodeCSRRequest is CreateCertificateFromCsr's request.
func encodeCSRRequest(csrPEM string) []byte {
	b, _ := json.Marshal(struct {
		CSR string `json:"certificateSigningRequest"`
	}{csrPEM}) // a string: cannot fail
	return b
}

// encodeRegister is RegisterThing's request.
func encodeRegister(token string, params map[string]string) []byte {
	if params == nil {
		params = map[string]string{}
	}
	b, _ := json.Marshal(struct {
		Token      string            `json:"certificateOwnershipToken"`
		Parameters map[string]string `json:"parameters"`
	}{token, params}) // strings: cannot fail
	return b
}

// decodeAccepted decodes an accepted answer to a request on topic.
func decodeAccepted(topic string, payload []byte, out any) error {
	if err := json.Unmarshal(payload, out); err != nil {
		return &fleetError{why: "accepted answer not JSON", msg: topic + "/accepted: the answer is not JSON", err: err}
	}
	return nil
}

// decodeRejected is the *RejectedError of a rejected answer to a request
// on topic.
func decodeRejected(topic string, payload []byte) error {
	e := &RejectedError{}
	if err := json.Unmarshal(payload, e); err != nil {
		return &fleetError{why: "rejected answer not JSON", msg: topic + "/rejected: the answer is not JSON", err: err}
	}
	e.Topic = topic
	return e
}
