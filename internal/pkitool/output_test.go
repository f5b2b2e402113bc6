package pkitool

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteAllOrNothing: when a later file cannot be written, the files the
// call created are removed.
func TestWriteAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	o := Output{Dir: dir}
	files := []file{
		{path: filepath.Join(dir, "a.crt"), pem: "a", what: "a"},
		{path: filepath.Join(dir, "missing", "b.crt"), pem: "b", what: "b"},
	}
	if _, err := o.write(files); err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
	if _, err := os.Stat(files[0].path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a.crt was left behind: %v", err)
	}
}

func TestOutputPaths(t *testing.T) {
	tests := []struct {
		name    string
		o       Output
		want    string
		wantErr bool
	}{
		{"default", Output{}, "device.crt", false},
		{"dir and name", Output{Dir: "out", Name: "dev-1"}, filepath.Join("out", "dev-1.crt"), false},
		{"a path as name", Output{Name: "out/dev-1"}, "", true},
		{"dot dot", Output{Name: ".."}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.o.paths("device", ".crt")
			if tt.wantErr {
				if err == nil {
					t.Fatalf("paths = %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got[0] != tt.want {
				t.Errorf("paths = %v, want %s", got, tt.want)
			}
		})
	}
}
