package registry

import (
	"context"
	"crypto/rsa"
	"crypto/x509/pkix"
	"fmt"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/pki"
)

// ProvisioningClaimLifetime is how long a trusted-user provisioning claim
// is valid: AWS's 5 minutes (reference 6.1).
const ProvisioningClaimLifetime = 5 * time.Minute

// ClaimPolicyName names the policy a provisioning claim certificate holds
// implicitly: it is no policy of the registry.
const ClaimPolicyName = "iotcore:provisioning-claim"

// ProvisioningClaim is CreateProvisioningClaim's answer: a temporary claim
// certificate and its keys.
type ProvisioningClaim struct {
	IssuedCertificate
	Expiration time.Time
}

// CreateProvisioningClaim is provisioning by trusted user (reference 6.1):
// a claim certificate, valid ProvisioningClaimLifetime, with which a
// device may run fleet provisioning's MQTT API for the template name and
// nothing else. AWS gives it that right without a policy to attach, and
// hides it from ListCertificates; iotcore does both: the certificate is
// ACTIVE, holds the implicit ClaimPolicy, and is left out of listings that
// ask (CertificateFilter.WithoutClaims). Expired claims are deleted with the
// certificates fleet provisioning issued and nobody registered.
func (s *Service) CreateProvisioningClaim(ctx context.Context, name string) (*ProvisioningClaim, error) {
	if s.IssuingCA == nil {
		return nil, iot.Errorf(iot.InvalidRequest, "this server has no issuing CA configured")
	}
	pt, err := s.ProvisioningTemplate(ctx, name)
	if err != nil {
		return nil, err
	}
	if pt.Type != TemplateTypeFleetProvisioning {
		return nil, iot.Errorf(iot.InvalidRequest, "the provisioning template %s is of type %s: a provisioning claim needs a %s template", name, pt.Type, TemplateTypeFleetProvisioning)
	}
	key, err := pki.GenerateKey(pki.KeyRSA2048)
	if err != nil {
		return nil, err
	}
	now := s.now()
	expires := now.Add(ProvisioningClaimLifetime)
	cert, err := s.IssuingCA.IssueClient(key.Public(), pkix.Name{CommonName: "AWS IoT Provisioning Claim"}, now.Add(-time.Minute), expires)
	if err != nil {
		return nil, err
	}
	pub, err := pki.MarshalPublicKeyPEM(key.Public())
	if err != nil {
		return nil, err
	}
	rec := s.newCertificate(cert, "", iot.ModeDefault, iot.StatusActive, now)
	rec.ProvisioningClaim = name
	if err := s.update(ctx, func(tx Tx, c *change) error { return s.insertCertificate(ctx, tx, c, rec) }); err != nil {
		return nil, err
	}
	return &ProvisioningClaim{
		IssuedCertificate: IssuedCertificate{Certificate: rec, PublicKeyPEM: pub, PrivateKeyPEM: pki.MarshalRSAPrivateKeyPEM(key.(*rsa.PrivateKey))},
		Expiration:        expires,
	}, nil
}

// ClaimPolicy is the policy a provisioning claim for template holds: it may
// connect, and use fleet provisioning's MQTT API (both ways of getting a
// certificate, and RegisterThing with that template only).
func ClaimPolicy(acct iot.Account, template string) string {
	topic, filter := acct.ARN("topic/"), acct.ARN("topicfilter/")
	resources := func(prefix string) string {
		return fmt.Sprintf(`[%q,%q,%q]`, prefix+"$aws/certificates/create/*", prefix+"$aws/certificates/create-from-csr/*",
			prefix+"$aws/provisioning-templates/"+template+"/provision/*")
	}
	return `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Action":"iot:Connect","Resource":"*"},` +
		`{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":` + resources(topic) + `},` +
		`{"Effect":"Allow","Action":"iot:Subscribe","Resource":` + resources(filter) + `}]}`
}
