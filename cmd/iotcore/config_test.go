package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestConfigFileUnknownKey: a misspelt key in the YAML file is an error
// naming the closest known key, not silently ignored (issue 11, item 6).
func TestConfigFileUnknownKey(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"typo", "log-formt: json\n", "unknown key log-formt; did you mean log-format?"},
		{"underscores", "data_dir: /tmp/x\n", "unknown key data_dir; did you mean data-dir?"},
		{"nested", "mqtt:\n  max-connections: 5\n", "unknown key mqtt.max-connections; did you mean mqtt-max-connections?"},
		{"far from any", "colour: blue\n", "unknown key colour; the keys are serve's flag names (iotcore serve --help)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			fs := serveFlags()
			if err := fs.Parse([]string{"--config", path}); err != nil {
				t.Fatal(err)
			}
			_, _, err := loadConfig(fs)
			if err == nil {
				t.Fatalf("%q: no error", tc.yaml)
			}
			if want := "config file " + path + ": " + tc.want; err.Error() != want {
				t.Errorf("error %q,\nwant  %q", err, want)
			}
		})
	}
	t.Run("known keys", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, []byte("log-format: json\nmqtt-max-connections: 5\nregion: eu-west-1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		fs := serveFlags()
		if err := fs.Parse([]string{"--config", path}); err != nil {
			t.Fatal(err)
		}
		k, unknown, err := loadConfig(fs)
		if err != nil {
			t.Fatal(err)
		}
		if got := k.String("log-format"); got != "json" {
			t.Errorf("log-format %q, want json", got)
		}
		if got := k.Int("mqtt-max-connections"); got != 5 {
			t.Errorf("mqtt-max-connections %d, want 5", got)
		}
		if len(unknown) != 0 {
			t.Errorf("unknown environment variables %v, want none", unknown)
		}
	})
}

// TestConfigEnvUnknown: an IOTCORE_ variable that sets no flag is a
// warning naming the closest one; the server still starts.
func TestConfigEnvUnknown(t *testing.T) {
	t.Setenv("IOTCORE_LOG_FORMT", "json")
	t.Setenv("IOTCORE_COLOUR", "blue")
	t.Setenv("IOTCORE_LOG_LEVEL", "debug")
	t.Setenv("IOTCORE_TEST_LOG", "1") // the test suite's own
	fs := serveFlags()
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	k, unknown, err := loadConfig(fs)
	if err != nil {
		t.Fatal(err)
	}
	if got := k.String("log-level"); got != "debug" {
		t.Errorf("log-level %q, want debug from IOTCORE_LOG_LEVEL", got)
	}
	want := []envWarning{{name: "IOTCORE_COLOUR"}, {name: "IOTCORE_LOG_FORMT", near: "IOTCORE_LOG_FORMAT"}}
	if !slices.Equal(unknown, want) {
		t.Errorf("unknown %+v, want %+v", unknown, want)
	}
}

func TestClosest(t *testing.T) {
	known := []string{"log-format", "log-level", "data-dir", "api-addr", "mqtt-addr", "mqtt-max-connections", "region"}
	for _, tc := range []struct{ in, want string }{
		{"log-formt", "log-format"},
		{"LOG-FORMAT", "log-format"},
		{"data_dir", "data-dir"},
		{"mqtt.max-connections", "mqtt-max-connections"},
		{"mqtt-max-conections", "mqtt-max-connections"},
		{"api-adr", "api-addr"},
		{"regoin", "region"},
		{"colour", ""},
		{"hostname", ""},
	} {
		if got := closest(tc.in, known); got != tc.want {
			t.Errorf("closest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
