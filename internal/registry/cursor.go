package registry

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CertificateCursor is the listing key of certificates and CA certificates:
// creation time in epoch milliseconds, zero-padded so keys sort as strings,
// then the id.
func CertificateCursor(created time.Time, id string) string {
	return fmt.Sprintf("%020d/%s", created.UnixMilli(), id)
}

// ParseCertificateCursor splits a CertificateCursor.
func ParseCertificateCursor(s string) (millis int64, id string, err error) {
	ms, id, ok := strings.Cut(s, "/")
	if !ok {
		return 0, "", fmt.Errorf("bad certificate cursor %q", s)
	}
	millis, err = strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("bad certificate cursor %q: %w", s, err)
	}
	return millis, id, nil
}

// VersionCursor is the listing key of provisioning template versions: the
// version id, zero-padded so that keys sort as strings in numeric order.
func VersionCursor(id int64) string {
	return fmt.Sprintf("%020d", id)
}

// ParseVersionCursor inverts VersionCursor.
func ParseVersionCursor(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 0 {
		return 0, fmt.Errorf("bad version cursor %q", s)
	}
	return id, nil
}
