package registry

import (
	"context"

	"github.com/iotcore/iotcore/internal/iot"
)

// maxTagsPerResource is AWS's limit on the tags of one resource.
const maxTagsPerResource = 50

// checkTaggable verifies that the resource an ARN names exists.
func (s *Service) checkTaggable(ctx context.Context, tx Tx, resourceARN string) error {
	arn, err := iot.ParseARN(resourceARN)
	if err != nil {
		return iot.Errorf(iot.InvalidRequest, "resourceArn: %v", err)
	}
	if arn.Account != s.Account.ID || arn.Region != s.Account.Region {
		return iot.NotFound("resource", resourceARN)
	}
	switch arn.Type {
	case "cert":
		_, err = tx.Certificate(ctx, arn.Name)
	case "cacert":
		_, err = tx.CACertificate(ctx, arn.Name)
	case "thing":
		_, err = tx.Thing(ctx, arn.Name)
	case "thingtype":
		_, err = tx.ThingType(ctx, arn.Name)
	case "thinggroup":
		_, err = tx.ThingGroup(ctx, arn.Name)
	case "policy":
		_, err = tx.Policy(ctx, arn.Name)
	case "provisioningtemplate":
		_, err = tx.ProvisioningTemplate(ctx, arn.Name)
	case "rule":
		_, err = tx.TopicRule(ctx, arn.Name)
	case "billinggroup":
		_, err = tx.BillingGroup(ctx, arn.Name)
	case "rolealias":
		_, err = tx.RoleAlias(ctx, arn.Name)
	case "domainconfiguration":
		err = domainConfigurationOfARN(ctx, tx, arn.Name)
	default:
		return iot.Errorf(iot.InvalidRequest, "resources of type %q cannot be tagged here", arn.Type)
	}
	return notFound(err, "resource", resourceARN)
}

// TagResource adds or overwrites tags on a resource.
func (s *Service) TagResource(ctx context.Context, resourceARN string, tags []iot.Tag) error {
	if err := iot.CheckTags(tags); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		c.touchesNoPrincipal()
		if err := s.checkTaggable(ctx, tx, resourceARN); err != nil {
			return err
		}
		if err := tx.PutTags(ctx, resourceARN, tags); err != nil {
			return err
		}
		all, err := tx.ListTags(ctx, resourceARN, Page{Limit: maxTagsPerResource + 1})
		if err != nil {
			return err
		}
		if len(all) > maxTagsPerResource {
			return iot.Errorf(iot.LimitExceeded, "a resource can have at most %d tags", maxTagsPerResource)
		}
		return nil
	})
}

// UntagResource removes tags from a resource.
func (s *Service) UntagResource(ctx context.Context, resourceARN string, keys []string) error {
	return s.update(ctx, func(tx Tx, c *change) error {
		c.touchesNoPrincipal()
		if err := s.checkTaggable(ctx, tx, resourceARN); err != nil {
			return err
		}
		return tx.DeleteTags(ctx, resourceARN, keys)
	})
}

// CACertificateTags returns a CA certificate's tags by key, read in one
// statement outside a transaction, for the gate, which has the CA at hand
// (a CA that does not exist has none).
func (s *Service) CACertificateTags(ctx context.Context, caID string) ([]iot.Tag, error) {
	var tags []iot.Tag
	err := s.read(ctx, func(tx Tx) (err error) {
		tags, err = tx.ListTags(ctx, s.Account.CACertificateARN(caID), Page{Limit: maxTagsPerResource})
		return err
	})
	return tags, err
}

// ListTags lists a resource's tags by key.
func (s *Service) ListTags(ctx context.Context, resourceARN string, pr PageRequest) ([]iot.Tag, string, error) {
	return listPage(ctx, s, pr, func(t iot.Tag) string { return t.Key }, func(tx Tx, p Page) ([]iot.Tag, error) {
		if err := s.checkTaggable(ctx, tx, resourceARN); err != nil {
			return nil, err
		}
		return tx.ListTags(ctx, resourceARN, p)
	})
}
