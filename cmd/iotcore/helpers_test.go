package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
)

// allowedDevice makes, through srv's API, an active certificate with the
// policy "all" (every action on every resource) attached, and writes it and
// its key into dir; it returns their paths.
func allowedDevice(t *testing.T, srv *serveProcess, dir string) (certFile, keyFile string) {
	t.Helper()
	ctx := context.Background()
	api := srv.client(t)
	kc, err := api.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`
	if _, err := api.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("all"), PolicyDocument: aws.String(allowAll)}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("all"), Target: kc.CertificateArn}); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "device.crt"), filepath.Join(dir, "device.key")
	if err := os.WriteFile(certFile, []byte(*kc.CertificatePem), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(*kc.KeyPair.PrivateKey), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// startUntil starts cmd and returns once it writes the line marker on its
// standard error; wait then waits for it to exit and returns its standard
// output. The test fails if it exits before the marker, or fails.
func startUntil(t *testing.T, cmd *exec.Cmd, marker string) (wait func() string) {
	t.Helper()
	var stdout, errOut syncBuffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reached := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			errOut.Write(append(sc.Bytes(), '\n'))
			if sc.Text() == marker {
				reached <- true
			}
		}
		close(reached)
	}()
	if ok := <-reached; !ok {
		_ = cmd.Wait()
		t.Fatalf("%s exited before %q:\n%s\n%s", cmd.Path, marker, stdout.String(), errOut.String())
	}
	return func() string {
		t.Helper()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%s: %v\n%s\n%s", cmd.Path, err, stdout.String(), errOut.String())
		}
		return stdout.String()
	}
}
