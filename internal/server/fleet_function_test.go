package server_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/iotcore/iotcore/internal/devicesim"
	"github.com/iotcore/iotcore/internal/iottest"
	"github.com/iotcore/iotcore/internal/server"
	"github.com/iotcore/iotcore/internal/servertest"
)

// hookFunction is a pre-provisioning hook as it would be deployed to
// Lambda: it refuses the serial number "blocked" and otherwise overrides it.
const hookFunction = `
def lambda_handler(event, context):
    serial = event["parameters"].get("SerialNumber")
    if serial == "blocked":
        return {"allowProvisioning": False}
    print("hook allows", serial, "for", event["clientId"])
    return {"allowProvisioning": True, "parameterOverrides": {"SerialNumber": "fn-" + serial}}
`

// A template's pre-provisioning hook runs as a local function
// (--functions-dir), through the runner that rules' lambda actions use.
func TestFleetPreProvisioningHookFunction(t *testing.T) {
	iottest.NeedProgram(t, "python3", "--version")
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "fleet-hook"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fleet-hook", "lambda_function.py"), []byte(hookFunction), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := servertest.Start(t, func(c *server.Config) { c.FunctionsDir = dir })
	claim := fleetSetup(t, gw, claimPolicy)
	ctx := context.Background()
	must[*iot.UpdateProvisioningTemplateOutput](t)(gw.Client.UpdateProvisioningTemplate(ctx, &iot.UpdateProvisioningTemplateInput{
		TemplateName: aws.String("fleet"),
		PreProvisioningHook: &types.ProvisioningHook{PayloadVersion: aws.String("2020-04-01"),
			TargetArn: aws.String("arn:aws:lambda:us-east-1:123456789012:function:fleet-hook")},
	}))
	var log bytes.Buffer
	res, err := devicesim.Provision(ctx, provisionConfig(t, gw, claim, "claim-a", "42", &log))
	if err != nil {
		t.Fatalf("provision: %v\n%s", err, log.String())
	}
	if res.ThingName != "sensor-fn-42" {
		t.Errorf("thing %q, want sensor-fn-42 (the function's override)", res.ThingName)
	}
	log.Reset()
	_, err = devicesim.Provision(ctx, provisionConfig(t, gw, claim, "claim-b", "blocked", &log))
	var de *devicesim.Error
	if !errors.As(err, &de) || de.Kind != devicesim.Refused || !strings.Contains(err.Error(), "rejected") {
		t.Fatalf("provision the function refuses: %v, want rejected\n%s", err, log.String())
	}
}
