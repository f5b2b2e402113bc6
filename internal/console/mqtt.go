package console

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iotcore/iotcore/internal/mqttcli"
)

// mqttPage is the MQTT test client: mqttpage.js connects from the browser.
func (c *Console) mqttPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.render(w, r, s, http.StatusOK, "mqtt", map[string]any{"Title": "MQTT test client",
		"Topic": r.URL.Query().Get("topic")})
}

// mqttURL answers the browser's MQTT client with a WebSocket URL to this
// same host's /mqtt, presigned with SigV4 (service iotdevicegateway) with
// the admin credentials: the secret never reaches the browser, and the
// signature is good for a few minutes, for one connection. A random client
// id comes with it.
func (c *Console) mqttURL(w http.ResponseWriter, r *http.Request, s *session) {
	creds := aws.Credentials{AccessKeyID: c.cfg.Credentials.AccessKeyID, SecretAccessKey: c.cfg.Credentials.SecretAccessKey}
	u, err := mqttcli.PresignURL(r.Context(), creds, r.Host, c.cfg.Region, c.cfg.Now())
	if err != nil {
		c.cfg.Logger.Error("console: presigning the MQTT WebSocket URL failed", "error", err)
		http.Error(w, "could not sign the WebSocket URL", http.StatusInternalServerError)
		return
	}
	if r.TLS == nil {
		u = "ws://" + strings.TrimPrefix(u, "wss://")
	}
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"url": u, "clientId": "iotcore-console-" + hex.EncodeToString(id)})
}
