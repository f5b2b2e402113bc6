package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/servertest"
)

// BenchmarkThingsPage measures the console's things page, a search by name
// prefix and a thing's page on a registry of 100,000 things (the issue's
// "must feel fast on a fleet of 100,000 things"): each page reads one
// registry page, so the time should not grow with the fleet.
func BenchmarkThingsPage(b *testing.B) {
	const fleet = 100_000
	gw := servertest.Start(b)
	ctx := context.Background()
	var wg sync.WaitGroup
	names := make(chan int, 1024)
	for range 64 {
		wg.Go(func() {
			for i := range names {
				in := registry.CreateThingInput{Name: fmt.Sprintf("sensor-%06d", i), Attributes: map[string]string{"line": fmt.Sprint(i % 40)}}
				if _, err := gw.Registry.CreateThing(ctx, in); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := range fleet {
		names <- i
	}
	close(names)
	wg.Wait()
	br := newHTTPBrowser(b, gw)
	form := url.Values{"access_key_id": {gw.Credentials.AccessKeyID}, "secret_access_key": {gw.Credentials.SecretAccessKey}}
	req, _ := http.NewRequest("POST", gw.APIURL()+"/console/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := br.Do(req)
	if err != nil || res.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign in: %v %v", res, err)
	}
	res.Body.Close()
	if err := gw.Registry.UpdateIndexingConfiguration(ctx, registry.IndexingUpdate{Thing: &registry.IndexingConfiguration{ThingIndexingMode: "REGISTRY"}}); err != nil {
		b.Fatal(err)
	}
	get := func(b *testing.B, path string) {
		res, err := br.Get(gw.APIURL() + path)
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %v %v", path, res, err)
		}
		res.Body.Close()
	}
	for _, bc := range []struct{ name, path string }{
		{"first-page", "/console/things"},
		{"prefix-late-in-the-fleet", "/console/things?prefix=sensor-0999"},
		{"attribute", "/console/things?attr=line&value=39"},
		{"thing", "/console/things/sensor-054321"},
		{"index-query", "/console/things?q=" + url.QueryEscape("attributes.line:39 AND thingName:sensor-09*")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				get(b, bc.path)
			}
		})
	}
}
