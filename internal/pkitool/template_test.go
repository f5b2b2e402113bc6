package pkitool_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iotcore/iotcore/internal/pkitool"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/templatefile")

// TestParseTemplateFileGolden parses each testdata/templatefile/NAME.json
// and compares the result, or the error, with NAME.golden.
func TestParseTemplateFileGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/templatefile/*.json")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := describeParse(data)
			golden := strings.TrimSuffix(in, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("ParseTemplateFile(%s)\n got: %s\nwant: %s", in, got, want)
			}
		})
	}
}

func describeParse(data []byte) string {
	c, err := pkitool.ParseTemplateFile(data)
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	return fmt.Sprintf("templateBody: %s\nroleArn: %s\ntemplateName: %s\n", c.TemplateBody, c.RoleARN, c.TemplateName)
}

// FuzzParseTemplateFile: whatever the input, ParseTemplateFile returns a
// template name or a body that is a JSON object with Resources, never both.
func FuzzParseTemplateFile(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/templatefile/*.json")
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := pkitool.ParseTemplateFile(data)
		if err != nil {
			return
		}
		if (c.TemplateBody == "") == (c.TemplateName == "") {
			t.Fatalf("%+v: want exactly one of a body and a name", c)
		}
		if c.TemplateBody != "" {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal([]byte(c.TemplateBody), &obj); err != nil {
				t.Fatalf("body %q is not a JSON object: %v", c.TemplateBody, err)
			}
			if _, ok := obj["Resources"]; !ok {
				t.Fatalf("body %q has no Resources", c.TemplateBody)
			}
		}
	})
}
