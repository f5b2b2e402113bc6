package broker

import (
	"context"
	"crypto/x509"
)

// Action is an MQTT action that IoT policies decide.
type Action int

// Actions, with the IoT policy action names they are decided as.
const (
	Connect       Action = iota + 1 // iot:Connect, resource client/<clientId>
	Publish                         // iot:Publish, resource topic/<topic>
	RetainPublish                   // iot:RetainPublish, resource topic/<topic> (with Publish)
	Subscribe                       // iot:Subscribe, resource topicfilter/<filter>
	Receive                         // iot:Receive, resource topic/<topic>
)

// ConnectRequest is a device's connection attempt: its TLS identity (or the
// IAM identity of a SigV4-signed WebSocket upgrade) and its CONNECT packet.
type ConnectRequest struct {
	Chain []*x509.Certificate // the certificates the peer presented, leaf first
	// IAMAccessKeyID is the access key that signed the connection's
	// WebSocket upgrade (SigV4, service iotdevicegateway), verified by the
	// adapter; set only when the peer presented no certificate. Such a
	// connection is an IAM identity: no certificate, no IoT policies.
	IAMAccessKeyID  string
	ServerName      string // TLS SNI, "" if none
	ClientID        string
	ProtocolVersion byte // 3 (3.1), 4 (3.1.1) or 5
	CleanSession    bool
	HasWill         bool
	RemoteAddr      string
}

// Refusal says how an adapter must refuse a connection.
type Refusal int

const (
	// Drop closes the connection without a CONNACK: authentication failed, or
	// this was a just-in-time provisioning or registration first connection
	// (AWS drops those too).
	Drop Refusal = iota + 1
	// NotAuthorized answers CONNACK "not authorized" (5 in MQTT 3.1.1, 0x87 in MQTT 5):
	// the device is known but its policies do not allow iot:Connect.
	NotAuthorized
)

// RefusedError is the error Gate.Connect returns for a refused connection.
// Reason is for the operator's log only; devices are told nothing.
type RefusedError struct {
	How    Refusal
	Reason string
}

func (e *RefusedError) Error() string { return "connection refused: " + e.Reason }

// Session is one admitted connection.
type Session interface {
	// Authorize decides one action on a topic name (Publish, RetainPublish,
	// Receive) or topic filter (Subscribe). It is called on every packet and
	// every delivery, so it must be fast.
	Authorize(action Action, topicOrFilter string) bool
	// Close tells the gate the connection has ended, and why.
	Close(DisconnectInfo)
	// CertificateID is the id of the certificate the connection
	// authenticated with; "" for an IAM identity.
	CertificateID() string
}

// DisconnectInfo says why a connection ended, in the terms of AWS's
// disconnected lifecycle event (reference 8.5).
type DisconnectInfo struct {
	ClientInitiated bool
	// Reason is one of AWS's disconnectReason values: CLIENT_INITIATED_DISCONNECT,
	// DUPLICATE_CLIENTID, SERVER_INITIATED_DISCONNECT, MQTT_KEEP_ALIVE_TIMEOUT,
	// CLIENT_ERROR, CONNECTION_LOST, FORBIDDEN_ACCESS, SERVER_ERROR.
	Reason string
}

// Disconnect reasons (AWS's DisconnectReasonValue).
const (
	ReasonClientDisconnect  = "CLIENT_INITIATED_DISCONNECT"
	ReasonDuplicateClientID = "DUPLICATE_CLIENTID"
	ReasonServerDisconnect  = "SERVER_INITIATED_DISCONNECT"
	ReasonKeepAliveTimeout  = "MQTT_KEEP_ALIVE_TIMEOUT"
	ReasonClientError       = "CLIENT_ERROR"
	ReasonConnectionLost    = "CONNECTION_LOST"
	ReasonForbiddenAccess   = "FORBIDDEN_ACCESS"
	ReasonServerError       = "SERVER_ERROR"
	ReasonWebSocketTTL      = "WEBSOCKET_TTL_EXPIRATION"
)

// KickTakenOver is the reason a session gives its kick function when the
// device connected again elsewhere (another node of a cluster): the adapter
// then ends the connection as a takeover (DUPLICATE_CLIENTID; MQTT 5
// DISCONNECT 0x8E).
const (
	KickTakenOver = "taken over by a new connection of the same client id on another node"
)

// Gate admits connections. kick, which the adapter supplies, disconnects this
// connection at once; the gate calls it when the certificate is revoked or
// deactivated, or its policies no longer allow the connection.
type Gate interface {
	Connect(ctx context.Context, req ConnectRequest, kick func(reason string)) (Session, error)
}

// Publisher sends server-originated messages, such as AWS events, to subscribers.
type Publisher interface {
	Publish(topic string, payload []byte, retain bool, qos byte) error
	// Subscribed reports whether any subscription matches topic: an event
	// nobody would receive is not worth building.
	Subscribed(topic string) bool
}
