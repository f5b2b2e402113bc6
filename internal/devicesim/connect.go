package devicesim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
)

// attemptError is a failed connection attempt: what happened, why, and
// whether another attempt may succeed.
type attemptError struct {
	kind  Kind
	retry bool
	msg   string
	brief string // when set, what to log instead of msg before retrying
	err   error
}

// connect makes one connection attempt: TCP, TLS, CONNECT, CONNACK. On
// success the client is connected and owns the connection.
func (d *device) connect(ctx context.Context, received func(paho.PublishReceived) (bool, error)) (*paho.Client, *paho.Connack, *attemptError) {
	cfg := &d.cfg
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout}
	raw, err := dialer.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, nil, d.dialError(err)
	}
	conn := tls.Client(raw, &tls.Config{
		ServerName:   cfg.ServerName,
		RootCAs:      cfg.RootCAs,
		Certificates: []tls.Certificate{cfg.Certificate},
		NextProtos:   cfg.NextProtos,
		MinVersion:   tls.VersionTLS12,
	})
	hctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	err = conn.HandshakeContext(hctx)
	cancel()
	if err != nil {
		raw.Close()
		return nil, nil, d.handshakeError(err)
	}
	st := conn.ConnectionState()
	d.logf("%s established: the server is %s, trusted through its CA %s",
		tls.VersionName(st.Version), st.PeerCertificates[0].Subject, st.VerifiedChains[0][len(st.VerifiedChains[0])-1].Subject)

	c := paho.NewClient(paho.ClientConfig{
		Conn:               packets.NewThreadSafeConn(conn),
		PacketTimeout:      cfg.ConnectTimeout,
		OnPublishReceived:  []func(paho.PublishReceived) (bool, error){received},
		OnServerDisconnect: d.onServerDisconnect,
		OnClientError:      d.onClientError,
	})
	keepAlive := uint16(min(cfg.KeepAlive.Seconds(), 65535))
	ack, err := c.Connect(ctx, &paho.Connect{ClientID: cfg.ClientID, CleanStart: true, KeepAlive: keepAlive})
	if err == nil {
		return c, ack, nil
	}
	conn.Close()
	if ack != nil {
		return nil, nil, d.connackError(ack, err)
	}
	return nil, nil, d.droppedError(ctx, err)
}

func (d *device) dialError(err error) *attemptError {
	addr := d.cfg.Addr
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns):
		return &attemptError{kind: Network, err: err, msg: fmt.Sprintf("cannot resolve the endpoint host %q: %v", dns.Name, dns.Err)}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &attemptError{kind: Network, retry: true, err: err,
			msg: fmt.Sprintf("nothing listens on %s (connection refused): is the server running, and is this its MQTT address (iotcore serve prints it as --mqtt-addr)?", addr)}
	case isTimeout(err):
		return &attemptError{kind: Network, retry: true, err: err, msg: fmt.Sprintf("no answer from %s within %s (a firewall, or the wrong address?)", addr, d.cfg.ConnectTimeout)}
	}
	return &attemptError{kind: Network, retry: true, err: err, msg: fmt.Sprintf("cannot connect to %s: %v", addr, err)}
}

func (d *device) handshakeError(err error) *attemptError {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		c := unknown.Cert
		where := "a CA in the server CA file"
		if d.cfg.RootCAs == nil {
			where = "a CA the system trusts"
		}
		return &attemptError{kind: Network, err: err, msg: fmt.Sprintf("TLS handshake failed: the server's certificate (%s, issued by %s) is not signed by %s: "+
			"give the CA the server's certificate chains to (for iotcore, ca.pem in its data directory; for AWS IoT, AmazonRootCA1.pem)", c.Subject, c.Issuer, where)}
	case errors.As(err, &host):
		return &attemptError{kind: Network, err: err, msg: fmt.Sprintf("TLS handshake failed: the server's certificate is not valid for %q (%v): connect with a name it carries, or set the server name", d.cfg.ServerName, err)}
	case errors.As(err, &invalid):
		return &attemptError{kind: Network, err: err, msg: fmt.Sprintf("TLS handshake failed: the server's certificate is not valid: %v", err)}
	case isRemoteAlert(err):
		return &attemptError{kind: Network, err: err, msg: fmt.Sprintf("TLS handshake failed: the server refused it (%v); it may not accept this device certificate or its TLS version", err)}
	case isTimeout(err):
		return &attemptError{kind: Network, retry: true, err: err, msg: fmt.Sprintf("TLS handshake timed out after %s", d.cfg.ConnectTimeout)}
	}
	return &attemptError{kind: Network, retry: true, err: err, msg: fmt.Sprintf("TLS handshake failed: the server closed the connection (%v)", err)}
}

// connackError explains a CONNACK with a failure reason code.
func (d *device) connackError(ack *paho.Connack, err error) *attemptError {
	code := ack.ReasonCode
	msg := "CONNACK " + reason(code)
	if ack.Properties != nil {
		msg += reasonString(ack.Properties.ReasonString)
	}
	switch code {
	case codeNotAuthorized:
		msg += fmt.Sprintf(": the certificate is registered and ACTIVE, but its policies do not allow iot:Connect for client id %q; "+
			"attach a policy that allows iot:Connect on arn:aws:iot:REGION:ACCOUNT:client/%s", d.cfg.ClientID, d.cfg.ClientID)
		if cn := d.cfg.Certificate.Leaf.Subject.CommonName; cn != "" && cn != d.cfg.ClientID {
			msg += fmt.Sprintf(", or connect with the client id the policy names (templates such as that of AWS's JITP walkthrough allow only the thing name, here the certificate's CN %q)", cn)
		}
	case codeClientIDNotValid:
		msg += fmt.Sprintf(": the server does not accept the client id %q", d.cfg.ClientID)
	case 0x84:
		msg += ": the server does not speak MQTT 5"
	}
	return &attemptError{kind: Refused, retry: retryableConnack(code), err: err, msg: msg}
}

// droppedError explains a connection closed before its CONNACK.
func (d *device) droppedError(ctx context.Context, err error) *attemptError {
	switch {
	case ctx.Err() != nil:
		return &attemptError{kind: Network, err: ctx.Err(), msg: "interrupted while waiting for CONNACK"}
	case isRemoteAlert(err):
		// TLS 1.3: the server checks the client certificate after the
		// client has finished its side of the handshake.
		return &attemptError{kind: Network, err: err, msg: fmt.Sprintf("the server refused the device certificate in the TLS handshake (%v)", err)}
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return &attemptError{kind: Dropped, retry: true, err: err, msg: fmt.Sprintf("no CONNACK within %s: the server took the TLS connection but did not answer the CONNECT", d.cfg.ConnectTimeout)}
	}
	d.drops++
	id := d.certID
	var msg string
	if d.drops == 1 {
		msg = "connection dropped before CONNACK: on AWS IoT and iotcore this is what a device's first just-in-time-provisioning connection does " +
			"(the server registers the certificate and runs its CA's template, or for JITR registers it PENDING_ACTIVATION), so reconnect"
		if len(d.cfg.Certificate.Certificate) == 1 {
			msg += "; note that the device presents its certificate alone, and AWS IoT expects its CA certificate after it on this first connection (deviceCertAndCACert.crt in AWS's JITP walkthrough, `iotcore pki device-cert`'s -chain.crt)"
		}
	} else if d.drops > 2 {
		return &attemptError{kind: Dropped, retry: true, err: err, msg: d.lastDrop,
			brief: fmt.Sprintf("connection dropped before CONNACK again (%d times now): certificate %s is still not accepted", d.drops, id)}
	} else {
		msg = fmt.Sprintf("connection dropped before CONNACK again: the server does not accept certificate %s. "+
			"With JITP one dropped connection is enough, so check that its CA is registered, ACTIVE, with auto-registration ENABLE and a template that applies to this certificate (the server's log says why it failed); "+
			"with JITR the certificate stays PENDING_ACTIVATION until something activates it (%s update-certificate --certificate-id %s --new-status ACTIVE); "+
			"a certificate that is INACTIVE or REVOKED, or not signed by a registered CA, is always dropped (%s describe-certificate --certificate-id %s)", id, d.awsIoT(), id, d.awsIoT(), id)
	}
	d.lastDrop = msg
	return &attemptError{kind: Dropped, retry: true, err: err, msg: msg}
}

// awsIoT is the start of an aws CLI command for the API the device's
// certificate is managed with.
func (d *device) awsIoT() string {
	url := d.cfg.APIEndpointURL
	if url == "" {
		url = "<API URL>"
	}
	return "aws --endpoint-url " + url + " iot"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isRemoteAlert reports a TLS alert sent by the server ("remote error: tls: ...").
func isRemoteAlert(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error" || strings.Contains(err.Error(), "remote error: tls:")
}
