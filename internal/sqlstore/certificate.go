package sqlstore

import (
	"context"
	"fmt"

	"github.com/iotcore/iotcore/internal/registry"
)

// Device certificates live in certificates, listed by (created_at, id): the
// registry.CertificateCursor order.

const certificateColumns = `id, pem, ca_id, status, mode, owned_by, created_at, updated_at,
	customer_version, generation_id, not_before, not_after, provisioning_claim`

func scanCertificate(sc scanner) (registry.Certificate, error) {
	var c registry.Certificate
	var created, updated, notBefore, notAfter int64
	err := sc.Scan(&c.ID, &c.PEM, &c.CAID, &c.Status, &c.Mode, &c.OwnedBy, &created, &updated,
		&c.CustomerVersion, &c.GenerationID, &notBefore, &notAfter, &c.ProvisioningClaim)
	c.CreatedAt, c.UpdatedAt = fromMillis(created), fromMillis(updated)
	c.NotBefore, c.NotAfter = fromMillis(notBefore), fromMillis(notAfter)
	return c, err
}

func certificateArgs(c *registry.Certificate) []any {
	return []any{c.ID, c.PEM, c.CAID, c.Status, c.Mode, c.OwnedBy, millis(c.CreatedAt), millis(c.UpdatedAt),
		c.CustomerVersion, c.GenerationID, millis(c.NotBefore), millis(c.NotAfter), c.ProvisioningClaim}
}

// Certificate returns the certificate with the given id.
func (t *tx) Certificate(ctx context.Context, id string) (*registry.Certificate, error) {
	return queryOne(ctx, t, fmt.Sprintf("certificate %s", id),
		`SELECT `+certificateColumns+` FROM certificates WHERE id = $1`, []any{id}, scanCertificate)
}

// InsertCertificate inserts a new certificate; it fails if the id is taken.
func (t *tx) InsertCertificate(ctx context.Context, c *registry.Certificate) error {
	if _, err := t.exec(ctx, `INSERT INTO certificates (`+certificateColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, certificateArgs(c)...); err != nil {
		return fmt.Errorf("insert certificate %s: %w", c.ID, err)
	}
	return nil
}

// UpdateCertificate overwrites a certificate; ErrNotFound when it does not exist.
func (t *tx) UpdateCertificate(ctx context.Context, c *registry.Certificate) error {
	return t.execOne(ctx, fmt.Sprintf("update certificate %s", c.ID), `
		UPDATE certificates SET pem = $2, ca_id = $3, status = $4, mode = $5, owned_by = $6,
			created_at = $7, updated_at = $8, customer_version = $9, generation_id = $10,
			not_before = $11, not_after = $12, provisioning_claim = $13
		WHERE id = $1`, certificateArgs(c)...)
}

// DeleteCertificate deletes a certificate; ErrNotFound when it does not exist.
func (t *tx) DeleteCertificate(ctx context.Context, id string) error {
	return t.execOne(ctx, fmt.Sprintf("delete certificate %s", id),
		`DELETE FROM certificates WHERE id = $1`, id)
}

// ListCertificates lists certificates by creation time then id, ascending or
// descending; p.After is a registry.CertificateCursor.
func (t *tx) ListCertificates(ctx context.Context, f registry.CertificateFilter, p registry.Page) ([]registry.Certificate, error) {
	var s stmt
	if f.CAID != "" {
		s.where("ca_id = " + s.arg(f.CAID))
	}
	if f.WithoutClaims {
		s.where("provisioning_claim = ''")
	}
	orderBy, err := certificatePage(&s, p, f.Ascending)
	if err != nil {
		return nil, fmt.Errorf("list certificates: %w", err)
	}
	q := s.build(`SELECT `+certificateColumns+` FROM certificates`, orderBy, p.Limit)
	return queryAll(ctx, t, "list certificates", q, s.args, scanCertificate)
}

// CountCertificatesOfCA counts the certificates signed by a CA.
func (t *tx) CountCertificatesOfCA(ctx context.Context, caID string) (int, error) {
	return t.count(ctx, fmt.Sprintf("count certificates of CA %s", caID),
		`SELECT COUNT(*) FROM certificates WHERE ca_id = $1`, caID)
}
