package devicesim_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/iotcore/iotcore/internal/devicesim"
	"github.com/iotcore/iotcore/internal/pkitool"
	"github.com/iotcore/iotcore/internal/pkitool/awssdk"
	"github.com/iotcore/iotcore/internal/server"
	"github.com/iotcore/iotcore/internal/servertest"
)

// seedTemplate is seed 000's first template for this server's account and
// region (us-east-1): the thing is the CN, and the policy lets it connect
// as the thing and use topics under its name.
const seedTemplate = `{"templateBody": "{ \"Parameters\" : { \"AWS::IoT::Certificate::CommonName\" : { \"Type\" : \"String\" },\"AWS::IoT::Certificate::Country\" : { \"Type\" : \"String\" }, \"AWS::IoT::Certificate::Id\" : { \"Type\" : \"String\" }}, \"Resources\" : { \"thing\" : { \"Type\" : \"AWS::IoT::Thing\", \"Properties\" : { \"ThingName\" : {\"Ref\" : \"AWS::IoT::Certificate::CommonName\"}, \"AttributePayload\" : { \"version\" : \"v1\", \"country\" : {\"Ref\" : \"AWS::IoT::Certificate::Country\"}} } }, \"certificate\" : { \"Type\" : \"AWS::IoT::Certificate\", \"Properties\" : { \"CertificateId\": {\"Ref\" : \"AWS::IoT::Certificate::Id\"}, \"Status\" : \"ACTIVE\" } }, \"policy\" : {\"Type\" : \"AWS::IoT::Policy\", \"Properties\" : { \"PolicyDocument\" : \"{ \\\"Version\\\": \\\"2012-10-17\\\", \\\"Statement\\\": [ { \\\"Effect\\\": \\\"Allow\\\", \\\"Action\\\": [ \\\"iot:Connect\\\" ], \\\"Resource\\\": [ \\\"arn:aws:iot:us-east-1:123456789012:client\\\/${iot:Connection.Thing.ThingName}\\\" ] }, { \\\"Effect\\\": \\\"Allow\\\", \\\"Action\\\": [ \\\"iot:Publish\\\", \\\"iot:Receive\\\" ], \\\"Resource\\\": [ \\\"arn:aws:iot:us-east-1:123456789012:topic\\\/${iot:Connection.Thing.ThingName}\\\/*\\\" ] }, { \\\"Effect\\\": \\\"Allow\\\", \\\"Action\\\": [ \\\"iot:Subscribe\\\" ], \\\"Resource\\\": [ \\\"arn:aws:iot:us-east-1:123456789012:topicfilter\\\/${iot:Connection.Thing.ThingName}\\\/*\\\" ] } ] }\" } } } }", "roleArn": "arn:aws:iam::123456789012:role/JITPRole"}`

// env is a gateway on loopback, an SDK client for its API, and a directory
// for certificates.
type env struct {
	t      *testing.T
	srv    *server.Server
	client *iot.Client
	dir    string
	roots  *x509.CertPool // the server's root CA, as devices trust it
}

func newEnv(t *testing.T) *env {
	t.Helper()
	gw := servertest.Start(t)
	return &env{t: t, srv: gw.Server, dir: t.TempDir(), roots: gw.RootCAs, client: gw.Client}
}

// ca makes a CA named name and, unless config is nil, registers it (for
// JITR with a zero config).
func (e *env) ca(name string, config *pkitool.RegistrationConfig) string {
	e.t.Helper()
	if _, err := pkitool.CreateCA(pkitool.CARequest{Subject: pkitool.Subject{CommonName: name, Country: "IN"}, Output: pkitool.Output{Dir: e.dir, Name: name}}); err != nil {
		e.t.Fatal(err)
	}
	if config == nil {
		return ""
	}
	res, err := pkitool.RegisterCA(context.Background(), awssdk.Registrar{Client: e.client}, pkitool.RegisterCARequest{
		CACertPath: filepath.Join(e.dir, name+".pem"), CAKeyPath: filepath.Join(e.dir, name+".key"), Config: *config,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return res.ID
}

// jitpCA makes and registers a CA with seed 000's template.
func (e *env) jitpCA(name string) {
	e.t.Helper()
	tmpl, err := pkitool.ParseTemplateFile([]byte(seedTemplate))
	if err != nil {
		e.t.Fatal(err)
	}
	e.ca(name, &tmpl)
}

// device issues a device certificate with CN=cn under the CA named ca, and
// returns it as the simulator loads it (the chain file, as on a first
// connection).
func (e *env) device(ca, cn string) (tls.Certificate, string) {
	e.t.Helper()
	res, err := pkitool.IssueDeviceCert(pkitool.DeviceCertRequest{
		CACertPath: filepath.Join(e.dir, ca+".pem"), CAKeyPath: filepath.Join(e.dir, ca+".key"),
		Subject: pkitool.Subject{CommonName: cn, Country: "IN"}, Output: pkitool.Output{Dir: e.dir, Name: cn},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	_, cert, err := devicesim.LoadCredentials(filepath.Join(e.srv.Config.DataDir, server.RootCAFile), filepath.Join(e.dir, cn+"-chain.crt"), filepath.Join(e.dir, cn+".key"))
	if err != nil {
		e.t.Fatal(err)
	}
	return cert, res.ID
}

// config is a device configuration for this server, retrying quickly.
func (e *env) config(cert tls.Certificate, log io.Writer) devicesim.Config {
	return devicesim.Config{
		Addr:        e.srv.MQTTAddr().String(),
		ServerName:  "localhost",
		RootCAs:     e.roots,
		Certificate: cert,
		QoS:         1,
		Message:     []byte("Hello"),
		RetryDelay:  20 * time.Millisecond,
		Log:         log,

		APIEndpointURL: e.srv.APIURL(),
	}
}

// logBuffer collects the simulator's log and tells waiters when a line
// containing a given text appears.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	waiters map[string]chan struct{}
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for text, ch := range l.waiters {
		if strings.Contains(l.buf.String(), text) {
			close(ch)
			delete(l.waiters, text)
		}
	}
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// when returns a channel closed once the log contains text.
func (l *logBuffer) when(text string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan struct{})
	if strings.Contains(l.buf.String(), text) {
		close(ch)
		return ch
	}
	if l.waiters == nil {
		l.waiters = map[string]chan struct{}{}
	}
	l.waiters[text] = ch
	return ch
}
