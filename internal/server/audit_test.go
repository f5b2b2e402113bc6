package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/iotcore/iotcore/internal/server"
)

// TestAuditLog checks that every control-plane change, and only changes, is
// recorded with who did it, and that no secret lands in the log.
func TestAuditLog(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	must[*iot.CreateThingOutput](t)(ts.client.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("audited")}))
	must[*iot.DescribeThingOutput](t)(ts.client.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("audited")}))
	kc := must[*iot.CreateKeysAndCertificateOutput](t)(ts.client.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{}))
	must[*iot.CreatePolicyOutput](t)(ts.client.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(allowAll)}))
	must[*iot.AttachPolicyOutput](t)(ts.client.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("p"), Target: kc.CertificateArn}))
	_, err := ts.client.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(allowAll)})
	wantAPIError(t, err, "ResourceAlreadyExistsException")

	path := filepath.Join(ts.Config.DataDir, server.AuditLogFile)
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("audit log %s: %v; want mode 0600", path, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "PRIVATE KEY") || strings.Contains(string(data), ts.Credentials.SecretAccessKey) {
		t.Fatal("the audit log holds a secret")
	}
	var ops []string
	var attach, failed map[string]any
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		if rec["principal"] != ts.Credentials.AccessKeyID || rec["time"] == nil {
			t.Fatalf("audit record without who or when: %v", rec)
		}
		op := rec["op"].(string)
		ops = append(ops, op)
		switch {
		case op == "AttachPolicy":
			attach = rec
		case op == "CreatePolicy" && rec["error_code"] != nil:
			failed = rec
		}
	}
	if got := strings.Join(ops, ","); got != "CreateThing,CreateKeysAndCertificate,CreatePolicy,AttachPolicy,CreatePolicy" {
		t.Fatalf("audited operations %s", got)
	}
	if attach["target"] != *kc.CertificateArn || attach["resource"].(map[string]any)["policyName"] != "p" {
		t.Fatalf("AttachPolicy record: %v", attach)
	}
	if failed == nil || failed["error_code"] != "ResourceAlreadyExistsException" || failed["status"] != float64(409) {
		t.Fatalf("failed CreatePolicy record: %v", failed)
	}
}
