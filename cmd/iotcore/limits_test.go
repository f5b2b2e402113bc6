package main

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/knadh/koanf/v2"

	"github.com/iotcore/iotcore/internal/broker/mochi"
	"github.com/iotcore/iotcore/internal/provision"
)

// Every field of mochi.Limits and provision.FleetRates has exactly one flag, and each flag reaches
// its own field: a limit added to the engine without a flag, or a flag
// wired to the wrong field, fails here.
func TestLimitFlagsSetEveryLimit(t *testing.T) {
	fs := serveFlags()
	for i, f := range limitFlags {
		v := strconv.Itoa(1000 + i)
		if f.duration != nil {
			v += "s"
		}
		if err := fs.Set(f.name, v); err != nil {
			t.Fatalf("--%s=%s: %v", f.name, v, err)
		}
	}
	k, _, err := loadConfig(fs)
	if err != nil {
		t.Fatal(err)
	}
	got := limitsFrom(k)
	seen := map[int64]string{}
	fields := 0
	for _, rv := range []reflect.Value{reflect.ValueOf(got.MQTT), reflect.ValueOf(got.Fleet)} {
		fields += rv.NumField()
		for i := range rv.NumField() {
			name := rv.Type().String() + "." + rv.Type().Field(i).Name
			var n int64
			switch f := rv.Field(i); f.Interface().(type) {
			case int:
				n = f.Int()
			case time.Duration:
				n = int64(f.Interface().(time.Duration) / time.Second)
			default:
				t.Fatalf("%s has a type the flag table does not know", name)
			}
			if n < 1000 || n >= int64(1000+len(limitFlags)) {
				t.Errorf("%s = %d: no flag sets it", name, n)
				continue
			}
			if other, dup := seen[n]; dup {
				t.Errorf("%s and %s are set by the same flag", name, other)
			}
			seen[n] = name
		}
	}
	if fields != len(limitFlags) {
		t.Errorf("the limits have %d fields, the flag table %d flags", fields, len(limitFlags))
	}
	// Unset, every flag leaves its zero value's meaning to the engine or
	// gives AWS's default.
	def := limitsFrom(mustLoad(t))
	if def.MQTT.MaxConnections != 0 || def.MQTT.PublishRate != mochi.DefaultPublishRate || def.MQTT.MinKeepAlive != mochi.DefaultMinKeepAlive ||
		def.Fleet.RegisterThing != provision.DefaultRegisterThingRate {
		t.Errorf("defaults: %+v", def)
	}
}

func mustLoad(t *testing.T) *koanf.Koanf {
	t.Helper()
	k, _, err := loadConfig(serveFlags())
	if err != nil {
		t.Fatal(err)
	}
	return k
}
