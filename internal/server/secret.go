package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/iotcore/iotcore/internal/pki"
)

// secretSize is the length of the server's secret keys, in bytes.
const secretSize = 32

// loadOrCreateSecret reads the hex-encoded secret key at path, or creates
// the file (0600) with a new random one. Such a key signs what the server
// hands out and must later recognise, such as fleet provisioning's
// certificate ownership tokens: kept across restarts, so that a token given
// before one is still good after it.
func loadOrCreateSecret(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(data)))
		if err != nil || len(key) != secretSize {
			return nil, fmt.Errorf("secret key file %s: want %d hex-encoded bytes", path, secretSize)
		}
		return key, nil
	}
	if !os.IsNotExist(err) {
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	key := make([]byte, secretSize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("create secret key: %w", err)
	}
	if err := pki.WriteFileAtomic(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write secret key: %w", err)
	}
	return key, nil
}
