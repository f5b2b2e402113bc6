package server

import (
	"net"
	"net/http"

	"github.com/iotcore/iotcore/internal/awsapi/sigv4"
)

// WebSocketSigningName is the SigV4 signing name of MQTT over WebSocket, as
// on AWS: wss://<endpoint>/mqtt presigned for service iotdevicegateway.
const WebSocketSigningName = "iotdevicegateway"

// adminSecret returns the secret of the admin access key: the only
// credentials iotcore knows, for the API and for MQTT over WebSocket.
func (s *Server) adminSecret(id string) (string, bool) {
	if id == s.Credentials.AccessKeyID {
		return s.Credentials.SecretAccessKey, true
	}
	return "", false
}

// isAdminKey reports whether id is the admin access key, which may do
// everything on MQTT as on the API.
func (s *Server) isAdminKey(id string) bool {
	_, ok := s.adminSecret(id)
	return ok
}

// presignedWebSocket checks the SigV4-presigned URL of a WebSocket upgrade
// for the broker (mochi.WebSocketAuthenticator).
type presignedWebSocket struct{ v *sigv4.Verifier }

func (p presignedWebSocket) AuthenticateUpgrade(r *http.Request) (string, error) {
	id, err := p.v.VerifyPresigned(r)
	if err != nil {
		return "", err
	}
	return id.AccessKeyID, nil
}

// MQTTWebSocketAddr is the MQTT over WebSocket listen address, nil if off.
func (s *Server) MQTTWebSocketAddr() net.Addr { return s.Broker.WebSocketAddr() }
