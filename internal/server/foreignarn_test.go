package server_test

import (
	"context"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// TestForeignARNsAreNotSilent is issue 11's item 4 end to end, on a server
// in us-east-1 whose documents name us-east-2, as AWS's JITP walkthrough
// does: saving the policy and the CA's template logs a warning, and the
// device JITP provisions with that policy has the warning in its attempt.
func TestForeignARNsAreNotSilent(t *testing.T) {
	logs := &syncBuffer{}
	ts := startServerLogging(t, slog.New(slog.NewJSONHandler(logs, nil)))
	ctx := context.Background()
	const doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:%s:123456789012:client/${iot:Connection.Thing.ThingName}"}]}`
	const why = `names the region us-east-2, but this server's region is us-east-1`
	warnings := func() int { return strings.Count(logs.String(), why) }

	for _, tc := range []struct {
		name, region string
		want         int // warnings logged
	}{
		{"Home", "us-east-1", 0},
		{"Abroad", "us-east-2", 1},
	} {
		before := warnings()
		must[*iot.CreatePolicyOutput](t)(ts.client.CreatePolicy(ctx, &iot.CreatePolicyInput{
			PolicyName: aws.String(tc.name), PolicyDocument: aws.String(fmt.Sprintf(doc, tc.region))}))
		if got := warnings() - before; got != tc.want {
			t.Errorf("CreatePolicy %s: %d warnings, want %d\n%s", tc.name, got, tc.want, logs.String())
		}
	}

	ca, caID := ts.registerCA(t, "Device Root CA", true, true)
	body := `{"Parameters":{"AWS::IoT::Certificate::CommonName":{"Type":"String"},"AWS::IoT::Certificate::Id":{"Type":"String"}},"Resources":{
"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"AWS::IoT::Certificate::CommonName"}}},
"certificate":{"Type":"AWS::IoT::Certificate","Properties":{"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"},"Status":"ACTIVE"}},
"policy":{"Type":"AWS::IoT::Policy","Properties":{"PolicyDocument":` + fmt.Sprintf("%q", fmt.Sprintf(doc, "us-east-2")) + `}}}}`
	before := warnings()
	must[*iot.UpdateCACertificateOutput](t)(ts.client.UpdateCACertificate(ctx, &iot.UpdateCACertificateInput{
		CertificateId:      aws.String(caID),
		RegistrationConfig: &types.RegistrationConfig{TemplateBody: aws.String(body), RoleArn: aws.String("arn:aws:iam::123456789012:role/JITPRole")},
	}))
	if warnings() == before || !strings.Contains(logs.String(), `"saved":"CA certificate registrationConfig"`) {
		t.Errorf("saving the CA's template logged no warning:\n%s", logs.String())
	}

	events := make(chan []byte, 4)
	if tok := ts.observer(t).Subscribe("$iotcore/events/provisioning/"+caID, 1, func(_ paho.Client, m paho.Message) { events <- m.Payload() }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	cert, key := pkitest.NewClient(t, ca, pkix.Name{CommonName: "Traveller"})
	_, _ = ts.mqttConnect(t, "Traveller", key, cert, ca.Certificate) // JITP drops the first connection
	select {
	case p := <-events:
		var e map[string]any
		if err := json.Unmarshal(p, &e); err != nil {
			t.Fatal(err)
		}
		if e["outcome"] != "PROVISIONED" || !strings.Contains(fmt.Sprint(e["reason"]), why) {
			t.Errorf("attempt event: %s; want PROVISIONED with the warning", p)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no attempt event")
	}
	var out struct {
		Attempts []map[string]any `json:"attempts"`
	}
	if err := json.Unmarshal(ts.signedGet(t, "/iotcore/provisioning-attempts?caCertificateId="+caID), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Attempts) != 1 || out.Attempts[0]["outcome"] != "PROVISIONED" || !strings.Contains(fmt.Sprint(out.Attempts[0]["reason"]), why) {
		t.Errorf("attempts: %+v; want one PROVISIONED with the warning", out.Attempts)
	}
	if !strings.Contains(logs.String(), `"msg":"device provisioned, but its policies name another region or account`) {
		t.Errorf("no warning in the log for the provisioned device:\n%s", logs.String())
	}
}
