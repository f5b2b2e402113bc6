package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/iotcore/iotcore/internal/iot"
)

// envPrefix starts the environment variables serve reads, IOTCORE_<FLAG>.
const envPrefix = "IOTCORE_"

// testEnvPrefix starts the variables of iotcore's own test suite
// (IOTCORE_TEST_LOG...), which serve ignores without a warning.
const testEnvPrefix = "IOTCORE_TEST_"

// flagEnv is the environment variable that sets a flag: IOTCORE_DATA_DIR
// for data-dir.
func flagEnv(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// fileKeys are the keys a config file may hold: the flag names but config.
func fileKeys(fs *pflag.FlagSet) []string {
	var keys []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name != "config" {
			keys = append(keys, f.Name)
		}
	})
	return keys
}

// checkFileKeys refuses a config file key that is no flag's name, naming
// the closest one: a misspelt key (log-formt) silently ignored would leave
// the setting at its default.
func checkFileKeys(fs *pflag.FlagSet, keys []string) error {
	known := fileKeys(fs)
	for _, key := range keys {
		if slices.Contains(known, key) {
			continue
		}
		if key == "config" {
			return fmt.Errorf("key config: a config file cannot name another")
		}
		if near := closest(key, known); near != "" {
			return fmt.Errorf("unknown key %s; did you mean %s?", key, near)
		}
		return fmt.Errorf("unknown key %s; the keys are serve's flag names (iotcore serve --help)", key)
	}
	return nil
}

// envWarning is an IOTCORE_ variable that sets no flag, and the closest
// one that does ("" if none is near).
type envWarning struct{ name, near string }

// unknownEnv returns the IOTCORE_ variables in environ that set no flag.
// They warn rather than fail: the environment is shared with other
// programs and other iotcore commands, and a variable left over from an
// older version should not stop a server from starting.
func unknownEnv(fs *pflag.FlagSet, environ []string) []envWarning {
	var known []string
	fs.VisitAll(func(f *pflag.Flag) { known = append(known, flagEnv(f.Name)) })
	var warnings []envWarning
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envPrefix) || strings.HasPrefix(name, testEnvPrefix) || slices.Contains(known, name) {
			continue
		}
		warnings = append(warnings, envWarning{name: name, near: closest(name, known)})
	}
	slices.SortFunc(warnings, func(a, b envWarning) int { return strings.Compare(a.name, b.name) })
	return warnings
}

// closest is the candidate nearest to s when it is near enough to be a
// typo: the same once case is ignored and '.' and '_' read as '-', or at
// most a quarter of its characters (and at least two) edited; "" otherwise.
func closest(s string, candidates []string) string {
	norm := func(s string) string {
		return strings.NewReplacer(".", "-", "_", "-").Replace(strings.ToLower(s))
	}
	best, bestDist := "", -1
	for _, c := range candidates {
		if d := iot.EditDistance(norm(s), norm(c)); bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	if bestDist < 0 || bestDist > max(2, len(s)/4) {
		return ""
	}
	return best
}
