package policy

import (
	"fmt"
	"testing"
)

// benchSet is the seed 000 scoped policy plus a Deny, for one thing.
func benchSet(b *testing.B, opts Options) *Set {
	b.Helper()
	return compileCase(b, []string{
		`{"Version":"2012-10-17","Statement":[
		  {"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-2:123456789012:client/${iot:Connection.Thing.ThingName}"]},
		  {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":["arn:aws:iot:us-east-2:123456789012:topic/${iot:Connection.Thing.ThingName}/*"]},
		  {"Effect":"Allow","Action":["iot:Subscribe"],"Resource":["arn:aws:iot:us-east-2:123456789012:topicfilter/${iot:Connection.Thing.ThingName}/*"]}]}`,
		`{"Version":"2012-10-17","Statement":[
		  {"Effect":"Deny","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-2:123456789012:topic/${iot:Connection.Thing.ThingName}/*/admin/?"}]}`,
	}, Vars{"iot:Connection.Thing.ThingName": "DemoThing", "iot:ClientId": "DemoThing"}, opts)
}

const benchResource = "arn:aws:iot:us-east-2:123456789012:topic/DemoThing/sensors/temperature"

func BenchmarkDecide(b *testing.B) {
	b.Run("cached", func(b *testing.B) {
		s := benchSet(b, Options{})
		s.Decide("iot:Publish", benchResource, nil)
		b.ReportAllocs()
		for b.Loop() {
			if s.Decide("iot:Publish", benchResource, nil) != Allow {
				b.Fatal("not allowed")
			}
		}
	})
	b.Run("cached-parallel", func(b *testing.B) {
		s := benchSet(b, Options{})
		s.Decide("iot:Publish", benchResource, nil)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if s.Decide("iot:Publish", benchResource, nil) != Allow {
					b.Error("not allowed")
					return
				}
			}
		})
	})
	b.Run("uncached", func(b *testing.B) {
		s := benchSet(b, Options{CacheSize: -1})
		b.ReportAllocs()
		for b.Loop() {
			if s.Decide("iot:Publish", benchResource, nil) != Allow {
				b.Fatal("not allowed")
			}
		}
	})
	b.Run("uncached-implicit-deny", func(b *testing.B) {
		s := benchSet(b, Options{CacheSize: -1})
		res := "arn:aws:iot:us-east-2:123456789012:topic/OtherThing/sensors/temperature"
		b.ReportAllocs()
		for b.Loop() {
			if s.Decide("iot:Receive", res, nil) != ImplicitDeny {
				b.Fatal("not denied")
			}
		}
	})
	b.Run("miss-evict", func(b *testing.B) {
		// Every call misses a full cache: the cost of a connection that
		// walks more topics than the cache holds.
		s := benchSet(b, Options{})
		res := make([]string, 1024)
		for i := range res {
			res[i] = fmt.Sprintf("arn:aws:iot:us-east-2:123456789012:topic/DemoThing/%d", i)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			s.Decide("iot:Publish", res[i%len(res)], nil)
			i++
		}
	})
}

func BenchmarkParse(b *testing.B) {
	doc := `{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": [ "iot:Connect" ], "Resource": [ "arn:aws:iot:us-east-2:123456789012:client/${iot:Connection.Thing.ThingName}" ] }, { "Effect": "Allow", "Action": [ "iot:Publish", "iot:Receive" ], "Resource": [ "arn:aws:iot:us-east-2:123456789012:topic/${iot:Connection.Thing.ThingName}/*" ] }, { "Effect": "Allow", "Action": [ "iot:Subscribe" ], "Resource": [ "arn:aws:iot:us-east-2:123456789012:topicfilter/${iot:Connection.Thing.ThingName}/*" ] } ] }`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	d, err := Parse(`{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": [ "iot:Connect" ], "Resource": [ "arn:aws:iot:us-east-2:123456789012:client/${iot:Connection.Thing.ThingName}" ] }, { "Effect": "Allow", "Action": [ "iot:Publish", "iot:Receive" ], "Resource": [ "arn:aws:iot:us-east-2:123456789012:topic/${iot:Connection.Thing.ThingName}/*" ] }, { "Effect": "Allow", "Action": [ "iot:Subscribe" ], "Resource": [ "arn:aws:iot:us-east-2:123456789012:topicfilter/${iot:Connection.Thing.ThingName}/*" ] } ] }`)
	if err != nil {
		b.Fatal(err)
	}
	docs := []*Document{d}
	vars := Vars{"iot:Connection.Thing.ThingName": "DemoThing"}
	b.ReportAllocs()
	for b.Loop() {
		Compile(docs, vars)
	}
}
