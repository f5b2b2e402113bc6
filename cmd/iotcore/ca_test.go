package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// TestCARegisterAndMosquitto is seed 000 with iotcore's tools against the
// real binary: `pki ca create`, `ca register` with the seed's template file,
// `pki device-cert`, and mosquitto_pub as the device, whose first connection
// is dropped and second accepted; then JITR and the errors.
func TestCARegisterAndMosquitto(t *testing.T) {
	requirePrograms(t, "openssl", "mosquitto_pub")
	clis := awsCLIs(t)
	bin := buildBinary(t)
	data := t.TempDir()
	srv := startBinary(t, bin, "--data-dir", data, "--region", "us-east-2") // the seed's policy names us-east-2
	dir := t.TempDir()
	env := awsEnv(filepath.Join(data, "credentials"))
	cli := func(args ...string) cliResult { t.Helper(); return mustCLI(t, bin, dir, env, args...) }
	template, err := filepath.Abs("../../examples/jitp_template.json")
	if err != nil {
		t.Fatal(err)
	}

	cli("pki", "ca", "create", "--name", "deviceRootCA", "--c", "IN", "--o", "AMZ")
	reg := cli("ca", "register", "--endpoint-url", srv.endpoint, "--region", "us-east-2",
		"--ca-cert", "deviceRootCA.pem", "--ca-key", "deviceRootCA.key", "--template-file", template)
	var registered struct{ CertificateID, CertificateArn string }
	if err := json.Unmarshal([]byte(reg.stdout), &registered); err != nil {
		t.Fatalf("ca register printed %q: %v", reg.stdout, err)
	}
	caID := certID(t, dir, "deviceRootCA.pem")
	if registered.CertificateID != caID || registered.CertificateArn != "arn:aws:iot:us-east-2:123456789012:cacert/"+caID {
		t.Errorf("ca register printed %+v, want the CA %s", registered, caID)
	}
	for _, step := range []string{"got the registration code", "issued the verification certificate CN=", "ACTIVE, auto-registration ENABLE, just-in-time provisioning (JITP)"} {
		if !strings.Contains(reg.stderr, step) {
			t.Errorf("ca register did not say %q:\n%s", step, reg.stderr)
		}
	}
	var described struct {
		CertificateDescription struct{ Status, AutoRegistrationStatus string }
		RegistrationConfig     struct{ TemplateBody, RoleArn string }
	}
	out := awsCommand(t, clis[0], srv.endpoint, filepath.Join(data, "credentials"), "iot", "describe-ca-certificate", "--certificate-id", caID)
	if err := json.Unmarshal(out, &described); err != nil {
		t.Fatal(err)
	}
	if d := described.CertificateDescription; d.Status != "ACTIVE" || d.AutoRegistrationStatus != "ENABLE" ||
		!strings.Contains(described.RegistrationConfig.TemplateBody, "AWS::IoT::Thing") || described.RegistrationConfig.RoleArn != "arn:aws:iam::123456789012:role/JITPRole" {
		t.Errorf("describe-ca-certificate = %s", out)
	}

	cli("pki", "device-cert", "--ca", "deviceRootCA.pem", "--ca-key", "deviceRootCA.key", "--cn", "DemoThing", "--c", "IN")
	pub := func(cert, client, topic string) (string, error) {
		cmd := exec.Command("mosquitto_pub", "--cafile", filepath.Join(data, "ca.pem"), "-h", "localhost", "-p", srv.mqttPort,
			"--cert", cert, "--key", "device.key", "-i", client, "-t", topic, "-q", "1", "-m", "Hello", "--tls-version", "tlsv1.2", "-d")
		cmd.Dir = dir
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	if out, err := pub("device-chain.crt", "anyclientID", "foo/bar"); err == nil {
		t.Fatalf("the first (provisioning) connection was not dropped:\n%s", out)
	}
	out2, err := pub("device.crt", "DemoThing", "DemoThing/test")
	if err != nil || !strings.Contains(out2, "received PUBACK") {
		t.Fatalf("the provisioned device could not publish: %v\n%s", err, out2)
	}
	thing := awsCommand(t, clis[0], srv.endpoint, filepath.Join(data, "credentials"), "iot", "describe-thing", "--thing-name", "DemoThing")
	if !strings.Contains(string(thing), `"country": "IN"`) {
		t.Errorf("describe-thing = %s", thing)
	}

	t.Run("jitr", func(t *testing.T) {
		cli("pki", "ca", "create", "--name", "jitr", "--cn", "JITR CA")
		res := cli("ca", "register", "--endpoint-url", srv.endpoint, "--ca-cert", "jitr.pem", "--ca-key", "jitr.key", "--jitr") // region from AWS_DEFAULT_REGION
		if !strings.Contains(res.stderr, "just-in-time registration (JITR)") {
			t.Errorf("ca register --jitr said:\n%s", res.stderr)
		}
		out := awsCommand(t, clis[0], srv.endpoint, filepath.Join(data, "credentials"), "iot", "describe-ca-certificate", "--certificate-id", certID(t, dir, "jitr.pem"))
		if !strings.Contains(string(out), `"autoRegistrationStatus": "ENABLE"`) || strings.Contains(string(out), "registrationConfig") {
			t.Errorf("describe-ca-certificate = %s", out)
		}
	})

	t.Run("template name", func(t *testing.T) {
		// A provisioning template saved with the aws CLI, then named.
		body := `{"Parameters":{"AWS::IoT::Certificate::CommonName":{"Type":"String"},"AWS::IoT::Certificate::Id":{"Type":"String"}},` +
			`"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"AWS::IoT::Certificate::CommonName"}}},` +
			`"certificate":{"Type":"AWS::IoT::Certificate","Properties":{"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"},"Status":"ACTIVE"}}}}`
		awsCommand(t, clis[0], srv.endpoint, filepath.Join(data, "credentials"), "iot", "create-provisioning-template",
			"--template-name", "factory", "--type", "JITP", "--enabled", "--template-body", body,
			"--provisioning-role-arn", "arn:aws:iam::123456789012:role/JITPRole")
		cli("pki", "ca", "create", "--name", "named", "--cn", "Named CA")
		cli("ca", "register", "--endpoint-url", srv.endpoint, "--ca-cert", "named.pem", "--ca-key", "named.key", "--template-name", "factory")
		out := awsCommand(t, clis[0], srv.endpoint, filepath.Join(data, "credentials"), "iot", "describe-ca-certificate", "--certificate-id", certID(t, dir, "named.pem"))
		if !strings.Contains(string(out), `"templateName": "factory"`) {
			t.Errorf("describe-ca-certificate = %s", out)
		}
		cli("pki", "device-cert", "--ca", "named.pem", "--ca-key", "named.key", "--cn", "named-device", "--name", "named-device")
		cmd := exec.Command("mosquitto_pub", "--cafile", filepath.Join(data, "ca.pem"), "-h", "localhost", "-p", srv.mqttPort,
			"--cert", "named-device-chain.crt", "--key", "named-device.key", "-i", "named-device", "-t", "x", "-m", "x")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Fatalf("the first (provisioning) connection was not dropped:\n%s", out)
		}
		awsCommand(t, clis[0], srv.endpoint, filepath.Join(data, "credentials"), "iot", "describe-thing", "--thing-name", "named-device")
	})

	t.Run("errors", func(t *testing.T) {
		cli("pki", "ca", "create", "--name", "other", "--cn", "Other")
		badCreds := filepath.Join(t.TempDir(), "credentials")
		if err := os.WriteFile(badCreds, []byte("[default]\naws_access_key_id = AKIAWRONGWRONGWRONG1\naws_secret_access_key = wrong\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			env  []string
			args []string
			want []string
		}{
			{"registered already", env, []string{"--ca-cert", "deviceRootCA.pem", "--ca-key", "deviceRootCA.key", "--jitr"},
				[]string{"ResourceAlreadyExistsException", "--endpoint-url " + srv.endpoint + " iot describe-ca-certificate --certificate-id " + caID}},
			{"wrong key", env, []string{"--ca-cert", "other.pem", "--ca-key", "deviceRootCA.key", "--jitr"}, []string{"deviceRootCA.key is not the key of other.pem"}},
			{"no template and no --jitr", env, []string{"--ca-cert", "other.pem", "--ca-key", "other.key"}, []string{"--template-file", "--jitr"}},
			{"bad template file", env, []string{"--ca-cert", "other.pem", "--ca-key", "other.key", "--template-file", "other.pem"}, []string{"other.pem: template file: not a JSON object"}},
			{"wrong credentials", awsEnv(badCreds), []string{"--ca-cert", "other.pem", "--ca-key", "other.key", "--jitr"}, []string{"UnrecognizedClientException", "AWS_SHARED_CREDENTIALS_FILE"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := runCLI(t, bin, dir, tt.env, append([]string{"ca", "register", "--endpoint-url", srv.endpoint}, tt.args...)...)
				if res.code != 1 {
					t.Errorf("exit %d, want 1", res.code)
				}
				for _, w := range tt.want {
					if !strings.Contains(res.stderr, w) {
						t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
					}
				}
			})
		}
	})
}

// certID returns the AWS certificate id of a PEM file, as openssl computes it.
func certID(t *testing.T, dir, file string) string {
	t.Helper()
	out := pkitest.RunOpenSSL(t, dir, "x509", "-in", file, "-noout", "-fingerprint", "-sha256")
	_, fp, _ := strings.Cut(strings.TrimSpace(out), "=")
	return strings.ToLower(strings.ReplaceAll(fp, ":", ""))
}
