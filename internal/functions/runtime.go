package functions

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
)

// The runtimes' bootstrap scripts: each imports a function's handler once
// and then serves its invocations (see their own comments for the
// protocol, process.go for iotcore's side of it).
//
//go:embed runtime/bootstrap.py runtime/bootstrap.mjs
var bootstraps embed.FS

// bootstrapFile is each family's script, under runtime/.
var bootstrapFile = map[family]string{
	python: "bootstrap.py",
	node:   "bootstrap.mjs",
}

// installRuntime writes the bootstrap scripts into a new private (0700)
// directory and returns it; Close removes it.
func installRuntime() (string, error) {
	dir, err := os.MkdirTemp("", "iotcore-functions-")
	if err != nil {
		return "", fmt.Errorf("installing the function runtimes: %w", err)
	}
	for _, name := range bootstrapFile {
		data, err := bootstraps.ReadFile("runtime/" + name)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), data, 0o600)
		}
		if err != nil {
			_ = os.RemoveAll(dir)
			return "", fmt.Errorf("installing the function runtimes: %w", err)
		}
	}
	return dir, nil
}
