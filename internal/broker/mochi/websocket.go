package mochi

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// webSocketPath is where MQTT over WebSocket is served, as on AWS
// (wss://<endpoint>/mqtt) [AWS 8.1].
const webSocketPath = "/mqtt"

// Our own WebSocket listener rather than mochi's: mochi's hides the TLS
// connection state, and the gate needs the client certificate. A client
// authenticates with a client certificate, as on the MQTT port, or, as on
// AWS [AWS 8.1], with a SigV4-presigned upgrade URL
// (/mqtt?X-Amz-Algorithm=...&X-Amz-Signature=..., service iotdevicegateway),
// checked by Config.WebSocketAuth.

// WebSocketAuthenticator checks the signature of a WebSocket upgrade that
// came without a client certificate.
type WebSocketAuthenticator interface {
	// AuthenticateUpgrade returns the IAM access key id that signed r's
	// URL, or an error (for the log only) if r is not validly signed.
	AuthenticateUpgrade(r *http.Request) (accessKeyID string, err error)
}

// webSocketTLSConfig is the MQTT listener's TLS configuration for HTTP/1.1,
// the only HTTP that carries WebSocket here. Client certificates are
// requested but not required, or no SigV4 client (a browser) could
// connect; as on the MQTT port, the gate, not the TLS layer, decides whom a
// certificate belongs to, so none is verified here either.
func (b *Broker) webSocketTLSConfig() *tls.Config {
	cfg := b.tls.Clone()
	cfg.GetConfigForClient = nil
	cfg.NextProtos = []string{"http/1.1"}
	cfg.ClientAuth = tls.RequestClientCert
	return cfg
}

func (b *Broker) newWebSocketServer() *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc(webSocketPath, b.serveWebSocket)
	return &http.Server{
		Handler: mux,
		// net/http bounds the TLS handshake by the smallest of its timeouts.
		ReadHeaderTimeout: b.cfg.HandshakeTimeout,
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){}, // no HTTP/2
		ErrorLog:          slog.NewLogLogger(debugHandler{b.log.Handler()}, slog.LevelDebug),
	}
}

var upgrader = websocket.Upgrader{
	Subprotocols: []string{"mqtt"}, // [MQTT-6.0.0-3]
	// Devices, not browsers: any origin. A page cannot present the device's
	// client certificate without its user's consent.
	CheckOrigin: func(*http.Request) bool { return true },
}

// serveWebSocket upgrades a request on /mqtt and serves MQTT over it.
func (b *Broker) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	if !b.enter() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	defer b.wg.Done()
	if r.TLS == nil {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	var accessKeyID string
	if len(r.TLS.PeerCertificates) == 0 {
		id, err := b.authenticateUpgrade(r)
		if err != nil {
			b.stats.upgradesRefused.Add(1)
			b.deviceLog("mqtt websocket upgrade refused", "remote", r.RemoteAddr, "reason", err.Error())
			// Nothing more for the client: AWS answers 403 too.
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		accessKeyID = id
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered
	}
	tc, _ := ws.NetConn().(*tls.Conn)
	var raw *rawConn
	if tc != nil {
		raw, _ = tc.NetConn().(*rawConn)
	}
	if raw == nil {
		_ = ws.Close()
		return
	}
	c := newConn(b, &wsConn{ws: ws}, raw, *r.TLS, listenerWSS)
	c.iamAccessKeyID = accessKeyID
	b.serveMQTT(c)
}

// SignedWebSocketHandler serves MQTT over WebSocket on another HTTP server
// than the broker's own listener (the API's, as AWS serves wss://<endpoint>/mqtt
// beside its HTTPS APIs on one port): SigV4-presigned upgrades only, since
// that server asks for no client certificate. The console's MQTT test client
// connects here, same-origin, over whatever the API speaks (HTTPS, or HTTP
// on loopback).
func (b *Broker) SignedWebSocketHandler() http.Handler {
	return http.HandlerFunc(b.serveSignedWebSocket)
}

func (b *Broker) serveSignedWebSocket(w http.ResponseWriter, r *http.Request) {
	if !b.enter() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	defer b.wg.Done()
	accessKeyID, err := b.authenticateUpgrade(r)
	if err != nil {
		b.stats.upgradesRefused.Add(1)
		b.deviceLog("mqtt websocket upgrade refused", "remote", r.RemoteAddr, "reason", err.Error())
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered
	}
	// The HTTP server's request deadlines stay on a hijacked connection:
	// from here mochi's keep-alive sets them.
	raw := &rawConn{Conn: ws.NetConn(), b: b}
	_ = raw.SetDeadline(time.Time{})
	if !b.track(raw) {
		_ = ws.Close()
		return
	}
	var state tls.ConnectionState
	if r.TLS != nil {
		state = *r.TLS
	}
	c := newConn(b, &wsConn{ws: ws}, raw, state, listenerWSS)
	c.iamAccessKeyID = accessKeyID
	b.serveMQTT(c)
}

var errNoCredentials = errors.New("neither a client certificate nor a signed URL")

// authenticateUpgrade checks the SigV4 signature of an upgrade without a
// client certificate.
func (b *Broker) authenticateUpgrade(r *http.Request) (string, error) {
	if b.cfg.WebSocketAuth == nil || !r.URL.Query().Has("X-Amz-Signature") && r.Header.Get("Authorization") == "" {
		return "", errNoCredentials
	}
	id, err := b.cfg.WebSocketAuth.AuthenticateUpgrade(r)
	if err == nil && id == "" {
		err = errNoCredentials
	}
	return id, err
}

var errTextMessage = errors.New("websocket: MQTT needs binary messages")

// wsConn is a WebSocket as a net.Conn: MQTT packets, in binary messages,
// which need not align with packets [MQTT-6.0.0-1] [MQTT-6.0.0-2].
type wsConn struct {
	ws *websocket.Conn
	r  io.Reader // the message being read, nil between messages

	// gorilla allows one writer at a time, and its SetWriteDeadline is a
	// write (mochi sets deadlines from its reading goroutine while another
	// writes): the deadline is kept here and applied by the writer.
	mu            sync.Mutex
	deadlineMu    sync.Mutex
	writeDeadline time.Time
}

var _ net.Conn = (*wsConn)(nil)

// Read reads from the current message, or the next.
func (w *wsConn) Read(p []byte) (int, error) {
	for {
		if w.r == nil {
			typ, r, err := w.ws.NextReader()
			if err != nil {
				return 0, err
			}
			if typ != websocket.BinaryMessage {
				return 0, errTextMessage // [MQTT-6.0.0-1]: close the connection
			}
			w.r = r
		}
		n, err := w.r.Read(p)
		if errors.Is(err, io.EOF) {
			w.r, err = nil, nil
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
}

// Write sends p as one binary message.
func (w *wsConn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.deadlineMu.Lock()
	d := w.writeDeadline
	w.deadlineMu.Unlock()
	if err := w.ws.SetWriteDeadline(d); err != nil {
		return 0, err
	}
	if err := w.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close closes the connection (without a close message).
func (w *wsConn) Close() error { return w.ws.Close() }

// LocalAddr is the local network address.
func (w *wsConn) LocalAddr() net.Addr { return w.ws.LocalAddr() }

// RemoteAddr is the peer's network address.
func (w *wsConn) RemoteAddr() net.Addr { return w.ws.RemoteAddr() }

// SetDeadline sets the read and write deadlines.
func (w *wsConn) SetDeadline(t time.Time) error {
	_ = w.SetWriteDeadline(t)
	return w.ws.SetReadDeadline(t)
}

// SetReadDeadline sets the read deadline.
func (w *wsConn) SetReadDeadline(t time.Time) error { return w.ws.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline of the next writes.
func (w *wsConn) SetWriteDeadline(t time.Time) error {
	w.deadlineMu.Lock()
	defer w.deadlineMu.Unlock()
	w.writeDeadline = t
	return nil
}
