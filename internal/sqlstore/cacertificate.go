package sqlstore

import (
	"context"
	"fmt"

	"github.com/iotcore/iotcore/internal/registry"
)

// CA certificates live in ca_certificates, with their registration
// (just-in-time provisioning) configuration inline, listed by (created_at,
// id) like device certificates and found by subject key for a device
// certificate's issuer.

const caCertificateColumns = `id, pem, subject_key, status, auto_registration, mode, owned_by,
	created_at, updated_at, customer_version, generation_id, not_before, not_after,
	template_body, role_arn, template_name`

func scanCACertificate(sc scanner) (registry.CACertificate, error) {
	var c registry.CACertificate
	var created, updated, notBefore, notAfter int64
	err := sc.Scan(&c.ID, &c.PEM, &c.SubjectKey, &c.Status, &c.AutoRegistration, &c.Mode, &c.OwnedBy,
		&created, &updated, &c.CustomerVersion, &c.GenerationID, &notBefore, &notAfter,
		&c.Registration.TemplateBody, &c.Registration.RoleARN, &c.Registration.TemplateName)
	c.CreatedAt, c.UpdatedAt = fromMillis(created), fromMillis(updated)
	c.NotBefore, c.NotAfter = fromMillis(notBefore), fromMillis(notAfter)
	return c, err
}

func caCertificateArgs(c *registry.CACertificate) []any {
	return []any{c.ID, c.PEM, c.SubjectKey, c.Status, c.AutoRegistration, c.Mode, c.OwnedBy,
		millis(c.CreatedAt), millis(c.UpdatedAt), c.CustomerVersion, c.GenerationID,
		millis(c.NotBefore), millis(c.NotAfter),
		c.Registration.TemplateBody, c.Registration.RoleARN, c.Registration.TemplateName}
}

// CACertificate returns the CA certificate with the given id.
func (t *tx) CACertificate(ctx context.Context, id string) (*registry.CACertificate, error) {
	return queryOne(ctx, t, fmt.Sprintf("CA certificate %s", id),
		`SELECT `+caCertificateColumns+` FROM ca_certificates WHERE id = $1`, []any{id}, scanCACertificate)
}

// InsertCACertificate inserts a new CA certificate; it fails if the id is taken.
func (t *tx) InsertCACertificate(ctx context.Context, c *registry.CACertificate) error {
	if _, err := t.exec(ctx, `INSERT INTO ca_certificates (`+caCertificateColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		caCertificateArgs(c)...); err != nil {
		return fmt.Errorf("insert CA certificate %s: %w", c.ID, err)
	}
	return nil
}

// UpdateCACertificate overwrites a CA certificate; ErrNotFound when it does
// not exist.
func (t *tx) UpdateCACertificate(ctx context.Context, c *registry.CACertificate) error {
	return t.execOne(ctx, fmt.Sprintf("update CA certificate %s", c.ID), `
		UPDATE ca_certificates SET pem = $2, subject_key = $3, status = $4, auto_registration = $5,
			mode = $6, owned_by = $7, created_at = $8, updated_at = $9, customer_version = $10,
			generation_id = $11, not_before = $12, not_after = $13,
			template_body = $14, role_arn = $15, template_name = $16
		WHERE id = $1`, caCertificateArgs(c)...)
}

// DeleteCACertificate deletes a CA certificate; ErrNotFound when it does not
// exist.
func (t *tx) DeleteCACertificate(ctx context.Context, id string) error {
	return t.execOne(ctx, fmt.Sprintf("delete CA certificate %s", id),
		`DELETE FROM ca_certificates WHERE id = $1`, id)
}

// ListCACertificates lists CA certificates by creation time then id,
// ascending or descending; p.After is a registry.CertificateCursor.
func (t *tx) ListCACertificates(ctx context.Context, f registry.CACertificateFilter, p registry.Page) ([]registry.CACertificate, error) {
	var s stmt
	if f.TemplateName != "" {
		s.where("template_name = " + s.arg(f.TemplateName))
	}
	orderBy, err := certificatePage(&s, p, f.Ascending)
	if err != nil {
		return nil, fmt.Errorf("list CA certificates: %w", err)
	}
	q := s.build(`SELECT `+caCertificateColumns+` FROM ca_certificates`, orderBy, p.Limit)
	return queryAll(ctx, t, "list CA certificates", q, s.args, scanCACertificate)
}

// CACertificatesBySubject returns the CA certificates whose subject has the
// given key, oldest first: the candidate issuers of a device certificate.
func (t *tx) CACertificatesBySubject(ctx context.Context, subjectKey string) ([]registry.CACertificate, error) {
	return queryAll(ctx, t, "CA certificates by subject",
		`SELECT `+caCertificateColumns+` FROM ca_certificates WHERE subject_key = $1 ORDER BY created_at, id`,
		[]any{subjectKey}, scanCACertificate)
}
