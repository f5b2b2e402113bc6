package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/iotcore/iotcore/internal/postgres/pgtest"
)

// TestStoreCopy moves a gateway from SQLite to PostgreSQL: iotcore store
// copy refuses while the server runs, copies once it is stopped, and the
// server started on PostgreSQL (the same data directory) has the registry;
// a second copy into the same database is refused.
func TestStoreCopy(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	url := pgtest.Database(t)
	srv := startServe(t, bin, data)
	api := srv.client(t)
	ctx := context.Background()
	if _, err := api.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("boiler-1"),
		AttributePayload: &types.AttributePayload{Attributes: map[string]string{"floor": "2"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.CreateDomainConfiguration(ctx, &iot.CreateDomainConfigurationInput{DomainConfigurationName: aws.String("factory"),
		DomainName: aws.String("mqtt.factory.example")}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.UpdateIndexingConfiguration(ctx, &iot.UpdateIndexingConfigurationInput{ThingIndexingConfiguration: &types.ThingIndexingConfiguration{
		ThingIndexingMode: types.ThingIndexingModeRegistry}}); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, bin, t.TempDir(), noAWSEnv(), "store", "copy", "--from", data, "--to", url)
	if res.code == 0 || !strings.Contains(res.stderr, "in use") {
		t.Errorf("store copy beside a running server: exit %d\n%s", res.code, res.stderr)
	}
	srv.stop(t)

	out := mustCLI(t, bin, t.TempDir(), noAWSEnv(), "store", "copy", "--from", data, "--to", url).stdout
	if !strings.Contains(out, "copied 1 things") || !strings.Contains(out, "1 policies") || !strings.Contains(out, "1 domain configurations") ||
		!strings.Contains(out, " the indexing configuration") {
		t.Errorf("store copy printed %q", out)
	}
	if strings.Contains(out, "password") {
		t.Errorf("store copy printed a password: %q", out)
	}
	res = runCLI(t, bin, t.TempDir(), noAWSEnv(), "store", "copy", "--from", data, "--to", url)
	if res.code == 0 || !strings.Contains(res.stderr, "already holds") {
		t.Errorf("a second copy: exit %d\n%s", res.code, res.stderr)
	}

	pg := startServe(t, bin, data, "--database-url", url)
	thing, err := pg.client(t).DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("boiler-1")})
	if err != nil || thing.Attributes["floor"] != "2" {
		t.Fatalf("the thing on PostgreSQL: %v %v", thing, err)
	}
	found, err := pg.client(t).SearchIndex(ctx, &iot.SearchIndexInput{QueryString: aws.String("attributes.floor:2")})
	if err != nil || len(found.Things) != 1 {
		t.Fatalf("SearchIndex on PostgreSQL (indexing copied on): %+v %v", found, err)
	}
}
