package server

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"

	"github.com/iotcore/iotcore/internal/pki"
)

// Credentials are the admin API keys, kept in an AWS shared-credentials file.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
}

// loadOrCreateCredentials reads the [default] profile of path, or creates the
// file (0600) with new keys. created reports whether it did.
func loadOrCreateCredentials(path string) (Credentials, bool, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		c, err := parseCredentials(string(data))
		if err != nil {
			return Credentials{}, false, fmt.Errorf("credentials file %s: %w", path, err)
		}
		return c, false, nil
	}
	if !os.IsNotExist(err) {
		return Credentials{}, false, fmt.Errorf("read credentials: %w", err)
	}
	c := Credentials{
		AccessKeyID:     "AKIA" + randomString(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
		SecretAccessKey: randomString(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
	}
	text := fmt.Sprintf("# iotcore admin API credentials. Keep this file secret.\n[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
		c.AccessKeyID, c.SecretAccessKey)
	if err := pki.WriteFileAtomic(path, []byte(text), 0o600); err != nil {
		return Credentials{}, false, fmt.Errorf("write credentials: %w", err)
	}
	return c, true, nil
}

// parseCredentials reads the [default] profile of an AWS credentials file.
func parseCredentials(text string) (Credentials, error) {
	var c Credentials
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section != "default" {
			continue
		}
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			c.AccessKeyID = strings.TrimSpace(v)
		case "aws_secret_access_key":
			c.SecretAccessKey = strings.TrimSpace(v)
		}
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return Credentials{}, fmt.Errorf("no aws_access_key_id and aws_secret_access_key in the [default] profile")
	}
	return c, nil
}

func randomString(n int, alphabet string) string {
	var b strings.Builder
	max := big.NewInt(int64(len(alphabet)))
	for range n {
		i, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		b.WriteByte(alphabet[i.Int64()])
	}
	return b.String()
}

// ReadCredentials reads the admin credentials of a data directory.
func ReadCredentials(dataDir string) (Credentials, error) {
	path := filepath.Join(dataDir, CredentialsFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("read credentials: %w", err)
	}
	c, err := parseCredentials(string(data))
	if err != nil {
		return Credentials{}, fmt.Errorf("credentials file %s: %w", path, err)
	}
	return c, nil
}
