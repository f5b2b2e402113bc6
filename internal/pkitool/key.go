package pkitool

import (
	"crypto"
	"fmt"

	"github.com/iotcore/iotcore/internal/pki"
)

// KeyRequest asks for a new private key.
type KeyRequest struct {
	// Type is the kind of key; the zero value is [pki.DefaultKeyType].
	Type pki.KeyType
	// Output names the file Name.key; the default name is "device".
	Output Output
}

// KeyResult is what NewKey made.
type KeyResult struct {
	Key   crypto.Signer
	Files []Written
}

// NewKey generates a private key and writes it (PKCS#8 PEM, mode 0600).
func NewKey(req KeyRequest) (*KeyResult, error) {
	paths, err := req.Output.paths("device", ".key")
	if err != nil {
		return nil, fmt.Errorf("new key: %w", err)
	}
	if err := req.Output.check(paths...); err != nil {
		return nil, fmt.Errorf("new key: %w", err)
	}
	key, err := pki.GenerateKey(req.Type)
	if err != nil {
		return nil, fmt.Errorf("new key: %w", err)
	}
	files, err := req.Output.write([]file{keyFile(paths[0], key)})
	if err != nil {
		return nil, fmt.Errorf("new key: %w", err)
	}
	return &KeyResult{Key: key, Files: files}, nil
}

func keyFile(path string, key crypto.Signer) file {
	return file{path: path, key: key, what: "private key (" + describeKey(key.Public()) + ", PKCS#8, mode 0600)"}
}

// deviceKey returns the key at path when path is set (it must exist), or a
// new key of type kt, which generated reports the caller must write.
func deviceKey(path string, kt pki.KeyType) (key crypto.Signer, generated bool, err error) {
	if path != "" {
		key, err := loadDeviceKey(path)
		return key, false, err
	}
	key, err = pki.GenerateKey(kt)
	return key, true, err
}
