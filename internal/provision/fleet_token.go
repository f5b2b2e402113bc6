package provision

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"
)

// TokenLifetime is how long a certificateOwnershipToken is good for: AWS's
// expires after one hour (reference 6.1).
const TokenLifetime = time.Hour

// An ownership token is base64url (unpadded) of
//
//	version (1 byte) | certificate id (32 bytes, the SHA-256 of its DER) |
//	expiry (8 bytes, Unix milliseconds, big-endian) | HMAC-SHA256 (32 bytes)
//
// where the HMAC, keyed with Fleet.TokenKey, covers tokenDomain and the
// bytes before it. It names one certificate and cannot be made or altered
// without the key; it is opaque to devices, as AWS's is.
const (
	tokenVersion = 1
	tokenIDLen   = sha256.Size
	tokenBodyLen = 1 + tokenIDLen + 8
	tokenLen     = tokenBodyLen + sha256.Size
	tokenDomain  = "iotcore fleet-provisioning certificateOwnershipToken\x00"
)

// Why a token is refused; fleet.go gives the device a sentence for each.
var (
	errTokenEmpty   = errors.New("ownership token: empty")
	errTokenInvalid = errors.New("ownership token: not one of this server's (damaged, altered or signed with another key)")
	errTokenExpired = errors.New("ownership token: expired")
)

// newToken returns a token for the certificate id (lower-case hex) that
// expires at expires.
func newToken(key []byte, certificateID string, expires time.Time) (string, error) {
	id, err := hex.DecodeString(certificateID)
	if err != nil || len(id) != tokenIDLen {
		return "", errors.New("new ownership token: the certificate id is not 64 hex digits")
	}
	b := make([]byte, 0, tokenLen)
	b = append(b, tokenVersion)
	b = append(b, id...)
	b = binary.BigEndian.AppendUint64(b, uint64(expires.UnixMilli()))
	b = append(b, tokenMAC(key, b)...)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// checkToken returns the certificate id a token names, or errTokenEmpty,
// errTokenInvalid (not one of ours: damaged, altered, or signed with
// another key) or errTokenExpired.
func checkToken(key []byte, token string, now time.Time) (string, error) {
	if token == "" {
		return "", errTokenEmpty
	}
	if base64.RawURLEncoding.DecodedLen(len(token)) != tokenLen {
		return "", errTokenInvalid
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) != tokenLen || b[0] != tokenVersion {
		return "", errTokenInvalid
	}
	body, mac := b[:tokenBodyLen], b[tokenBodyLen:]
	if !hmac.Equal(mac, tokenMAC(key, body)) {
		return "", errTokenInvalid
	}
	expires := time.UnixMilli(int64(binary.BigEndian.Uint64(body[1+tokenIDLen:])))
	if !now.Before(expires) {
		return "", errTokenExpired
	}
	return hex.EncodeToString(body[1 : 1+tokenIDLen]), nil
}

func tokenMAC(key, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(tokenDomain))
	m.Write(body)
	return m.Sum(nil)
}

// NewTokenKey returns a random key for Fleet.TokenKey.
func NewTokenKey() ([]byte, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	return k, nil
}
