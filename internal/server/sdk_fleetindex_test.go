package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotcore/iotcore/internal/iottest"
	"github.com/iotcore/iotcore/internal/server"
	"github.com/iotcore/iotcore/internal/servertest"
)

// TestFleetIndexing runs fleet indexing through the AWS SDK for Go v2: off
// by default, then on with shadows and connectivity; SearchIndex over the
// registry (type, attributes, groups, name wildcards, pages), a device's
// connection and its shadow update, a deleted thing, the thing-group
// index, and a query AWS would refuse.
func TestFleetIndexing(t *testing.T) {
	gw := servertest.Start(t, func(c *server.Config) { c.AccountID, c.Region = "123456789012", "us-east-1" })
	c := gw.Client
	ctx := context.Background()
	search := func(index, query string, max int32, token *string) *iot.SearchIndexOutput {
		t.Helper()
		in := &iot.SearchIndexInput{IndexName: aws.String(index), QueryString: aws.String(query), NextToken: token}
		if max > 0 {
			in.MaxResults = aws.Int32(max)
		}
		return must[*iot.SearchIndexOutput](t)(c.SearchIndex(ctx, in))
	}
	names := func(out *iot.SearchIndexOutput) string {
		var n []string
		for _, th := range out.Things {
			n = append(n, aws.ToString(th.ThingName))
		}
		return strings.Join(n, ",")
	}

	cfg := must[*iot.GetIndexingConfigurationOutput](t)(c.GetIndexingConfiguration(ctx, &iot.GetIndexingConfigurationInput{}))
	if cfg.ThingIndexingConfiguration.ThingIndexingMode != types.ThingIndexingModeOff {
		t.Fatalf("indexing configuration at first = %+v, want OFF", cfg.ThingIndexingConfiguration)
	}
	_, err := c.SearchIndex(ctx, &iot.SearchIndexInput{QueryString: aws.String("thingName:*")})
	wantAPIError(t, err, "ResourceNotFoundException")
	_, err = c.UpdateIndexingConfiguration(ctx, &iot.UpdateIndexingConfigurationInput{ThingIndexingConfiguration: &types.ThingIndexingConfiguration{
		ThingIndexingMode: types.ThingIndexingModeOff, ThingConnectivityIndexingMode: types.ThingConnectivityIndexingModeStatus}})
	wantAPIError(t, err, "InvalidRequestException")
	must[*iot.UpdateIndexingConfigurationOutput](t)(c.UpdateIndexingConfiguration(ctx, &iot.UpdateIndexingConfigurationInput{
		ThingIndexingConfiguration: &types.ThingIndexingConfiguration{ThingIndexingMode: types.ThingIndexingModeRegistryAndShadow,
			ThingConnectivityIndexingMode: types.ThingConnectivityIndexingModeStatus},
		ThingGroupIndexingConfiguration: &types.ThingGroupIndexingConfiguration{ThingGroupIndexingMode: types.ThingGroupIndexingModeOn},
	}))
	cfg = must[*iot.GetIndexingConfigurationOutput](t)(c.GetIndexingConfiguration(ctx, &iot.GetIndexingConfigurationInput{}))
	if tc := cfg.ThingIndexingConfiguration; tc.ThingIndexingMode != types.ThingIndexingModeRegistryAndShadow ||
		tc.ThingConnectivityIndexingMode != types.ThingConnectivityIndexingModeStatus ||
		!slices.ContainsFunc(tc.ManagedFields, func(f types.Field) bool { return aws.ToString(f.Name) == "connectivity.connected" }) ||
		cfg.ThingGroupIndexingConfiguration.ThingGroupIndexingMode != types.ThingGroupIndexingModeOn {
		t.Fatalf("indexing configuration = %+v / %+v", tc, cfg.ThingGroupIndexingConfiguration)
	}

	must[*iot.CreateThingTypeOutput](t)(c.CreateThingType(ctx, &iot.CreateThingTypeInput{ThingTypeName: aws.String("Sensor")}))
	for name, floor := range map[string]string{"sensor-1": "3", "sensor-2": "4"} {
		must[*iot.CreateThingOutput](t)(c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String(name), ThingTypeName: aws.String("Sensor"),
			AttributePayload: &types.AttributePayload{Attributes: map[string]string{"floor": floor}}}))
	}
	must[*iot.CreateThingOutput](t)(c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("pump-1")}))
	must[*iot.CreateThingGroupOutput](t)(c.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String("plant"),
		ThingGroupProperties: &types.ThingGroupProperties{ThingGroupDescription: aws.String("the plant")}}))
	must[*iot.AddThingToThingGroupOutput](t)(c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingGroupName: aws.String("plant"), ThingName: aws.String("pump-1")}))

	out := search("AWS_Things", "thingTypeName:Sensor AND attributes.floor:3", 0, nil)
	if names(out) != "sensor-1" || out.Things[0].Attributes["floor"] != "3" || aws.ToString(out.Things[0].ThingTypeName) != "Sensor" ||
		aws.ToString(out.Things[0].ThingId) == "" || out.NextToken != nil {
		t.Fatalf("type and attribute search = %+v", out)
	}
	if got := names(search("AWS_Things", "thingGroupNames:plant", 0, nil)); got != "pump-1" {
		t.Fatalf("group search = %s, want pump-1", got)
	}
	first := search("AWS_Things", "thingName:SENSOR*", 1, nil) // case-insensitive, as AWS
	second := search("AWS_Things", "thingName:SENSOR*", 1, first.NextToken)
	if names(first) != "sensor-1" || first.NextToken == nil || names(second) != "sensor-2" || second.NextToken != nil {
		t.Fatalf("pages: %s (next %v), %s (next %v)", names(first), first.NextToken, names(second), second.NextToken)
	}
	_, err = c.SearchIndex(ctx, &iot.SearchIndexInput{QueryString: aws.String("thingName:/sens.*/")})
	if msg := wantAPIError(t, err, "InvalidQueryException"); !strings.Contains(msg, "character") {
		t.Errorf("InvalidQueryException message %q does not say where", msg)
	}

	// A device connects as sensor-2 and reports its temperature.
	cert, _ := gw.AllowedEverything(t)
	roots := x509.NewCertPool()
	roots.AddCert(gw.RootCA.Certificate)
	dev := paho.NewClient(paho.NewClientOptions().AddBroker("tls://" + gw.MQTTAddr().String()).SetClientID("sensor-2").
		SetTLSConfig(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}, ServerName: "localhost"}).
		SetProtocolVersion(4).SetAutoReconnect(false))
	if tok := dev.Connect(); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	online := search("AWS_Things", "connectivity.connected:true", 0, nil)
	if names(online) != "sensor-2" || online.Things[0].Connectivity == nil || !aws.ToBool(online.Things[0].Connectivity.Connected) {
		t.Fatalf("connected things = %+v", online.Things)
	}
	accepted := make(chan struct{}, 1)
	dev.Subscribe("$aws/things/sensor-2/shadow/update/accepted", 1, func(paho.Client, paho.Message) { accepted <- struct{}{} }).WaitTimeout(10 * time.Second)
	dev.Publish("$aws/things/sensor-2/shadow/update", 1, false, `{"state":{"reported":{"temp":21.5}}}`).WaitTimeout(10 * time.Second)
	iottest.Receive(t, accepted, "the shadow update accepted")
	warm := search("AWS_Things", "shadow.reported.temp>20", 0, nil)
	if names(warm) != "sensor-2" || !strings.Contains(aws.ToString(warm.Things[0].Shadow), `"temp":21.5`) {
		t.Fatalf("shadow search = %+v", warm.Things)
	}
	dev.Disconnect(100)
	iottest.WaitFor(t, "sensor-2 indexed as disconnected", func() bool {
		off := search("AWS_Things", "connectivity.connected:false", 0, nil)
		return names(off) == "sensor-2" && aws.ToString(off.Things[0].Connectivity.DisconnectReason) == "CLIENT_INITIATED_DISCONNECT"
	})

	must[*iot.DeleteThingOutput](t)(c.DeleteThing(ctx, &iot.DeleteThingInput{ThingName: aws.String("sensor-1")}))
	if got := names(search("AWS_Things", "thingName:sensor*", 0, nil)); got != "sensor-2" {
		t.Fatalf("after sensor-1 was deleted: %s", got)
	}
	groups := search("AWS_ThingGroups", "thingGroupName:pl* AND thingGroupDescription:plant", 0, nil)
	if len(groups.ThingGroups) != 1 || aws.ToString(groups.ThingGroups[0].ThingGroupName) != "plant" {
		t.Fatalf("group index search = %+v", groups.ThingGroups)
	}
}
