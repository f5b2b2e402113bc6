package registry

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/iotcore/iotcore/internal/iot"
)

// RoleAlias names an IAM role that AWS IoT's credentials provider lets a
// device assume with its certificate. iotcore keeps role aliases as AWS's
// registry does; it has no credentials provider that would use them.
type RoleAlias struct {
	Alias                     string
	RoleARN                   string
	CredentialDurationSeconds int
	CreatedAt                 time.Time
	UpdatedAt                 time.Time
}

// RoleAliasTx stores role aliases. Listings are ordered by alias, ascending
// or descending.
type RoleAliasTx interface {
	RoleAlias(ctx context.Context, alias string) (*RoleAlias, error)
	InsertRoleAlias(ctx context.Context, a *RoleAlias) error
	UpdateRoleAlias(ctx context.Context, a *RoleAlias) error
	DeleteRoleAlias(ctx context.Context, alias string) error
	ListRoleAliases(ctx context.Context, ascending bool, p Page) ([]RoleAlias, error)
}

// Role-alias rules of the model (RoleAlias, RoleArn,
// CredentialDurationSeconds).
var (
	RoleAliasRule   = iot.NameRule{What: "roleAlias", Min: 1, Max: 128, Pattern: regexp.MustCompile(`^[\w=,@-]+$`)}
	roleAliasARNLen = iot.NameRule{What: "roleArn", Min: 20, Max: 2048}
	// iamRoleARN is an IAM role's ARN: arn:<partition>:iam::<account>:role/<path and name>.
	iamRoleARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$`)
)

// Credential durations of a role alias, in seconds (the model's
// CredentialDurationSeconds; the default is AWS's).
const (
	MinCredentialDuration     = 900
	MaxCredentialDuration     = 43200
	DefaultCredentialDuration = 3600
)

// RoleAliasARN returns the ARN of a role alias.
func RoleAliasARN(acct iot.Account, alias string) string { return acct.ARN("rolealias/" + alias) }

func checkRoleARN(arn string) error {
	if err := roleAliasARNLen.Check(arn); err != nil {
		return err
	}
	if !iamRoleARN.MatchString(arn) {
		return iot.Errorf(iot.InvalidRequest, "roleArn %q is not the ARN of an IAM role (arn:aws:iam::<account>:role/<name>)", arn)
	}
	return nil
}

// checkCredentialDuration checks a duration against the model's bounds,
// with AWS's validation message.
func checkCredentialDuration(seconds int) error {
	const format = "1 validation error detected: Value '%d' at 'credentialDurationSeconds' failed to satisfy constraint: Member must have value %s than or equal to %d"
	switch {
	case seconds < MinCredentialDuration:
		return iot.Errorf(iot.InvalidRequest, format, seconds, "greater", MinCredentialDuration)
	case seconds > MaxCredentialDuration:
		return iot.Errorf(iot.InvalidRequest, format, seconds, "less", MaxCredentialDuration)
	}
	return nil
}

// CreateRoleAlias creates a role alias; a CredentialDurationSeconds of 0
// is the default, 3600. An alias that exists is a conflict, whatever its
// role: unlike CreateBillingGroup and CreateThingGroup, the model does not
// document CreateRoleAlias as idempotent.
func (s *Service) CreateRoleAlias(ctx context.Context, a RoleAlias, tags []iot.Tag) (*RoleAlias, error) {
	if err := RoleAliasRule.Check(a.Alias); err != nil {
		return nil, err
	}
	if err := checkRoleARN(a.RoleARN); err != nil {
		return nil, err
	}
	if a.CredentialDurationSeconds == 0 {
		a.CredentialDurationSeconds = DefaultCredentialDuration
	}
	if err := checkCredentialDuration(a.CredentialDurationSeconds); err != nil {
		return nil, err
	}
	if err := iot.CheckTags(tags); err != nil {
		return nil, err
	}
	err := s.update(ctx, func(tx Tx, c *change) error {
		c.touchesNoPrincipal()
		if _, err := tx.RoleAlias(ctx, a.Alias); err == nil {
			return iot.AlreadyExists("role alias", a.Alias, "", RoleAliasARN(s.Account, a.Alias))
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		a.CreatedAt, a.UpdatedAt = c.now, c.now
		if err := tx.InsertRoleAlias(ctx, &a); err != nil {
			return err
		}
		return tx.PutTags(ctx, RoleAliasARN(s.Account, a.Alias), tags)
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// RoleAlias describes a role alias.
func (s *Service) RoleAlias(ctx context.Context, alias string) (*RoleAlias, error) {
	if err := RoleAliasRule.Check(alias); err != nil {
		return nil, err
	}
	var a *RoleAlias
	err := s.view(ctx, func(tx Tx) error {
		var err error
		a, err = tx.RoleAlias(ctx, alias)
		return notFound(err, "role alias", alias)
	})
	return a, err
}

// UpdateRoleAlias changes a role alias's role, its credential duration, or
// both; nil leaves one as it is.
func (s *Service) UpdateRoleAlias(ctx context.Context, alias string, roleARN *string, durationSeconds *int) (*RoleAlias, error) {
	if err := RoleAliasRule.Check(alias); err != nil {
		return nil, err
	}
	if roleARN != nil {
		if err := checkRoleARN(*roleARN); err != nil {
			return nil, err
		}
	}
	if durationSeconds != nil {
		if err := checkCredentialDuration(*durationSeconds); err != nil {
			return nil, err
		}
	}
	var out *RoleAlias
	err := s.update(ctx, func(tx Tx, c *change) error {
		c.touchesNoPrincipal()
		a, err := tx.RoleAlias(ctx, alias)
		if err != nil {
			return notFound(err, "role alias", alias)
		}
		if roleARN != nil {
			a.RoleARN = *roleARN
		}
		if durationSeconds != nil {
			a.CredentialDurationSeconds = *durationSeconds
		}
		a.UpdatedAt = c.now
		out = a
		return tx.UpdateRoleAlias(ctx, a)
	})
	return out, err
}

// DeleteRoleAlias deletes a role alias and its tags. Unlike most deletes,
// a missing alias is a ResourceNotFoundException (the model lists it for
// DeleteRoleAlias).
func (s *Service) DeleteRoleAlias(ctx context.Context, alias string) error {
	if err := RoleAliasRule.Check(alias); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		c.touchesNoPrincipal()
		if err := tx.DeleteRoleAlias(ctx, alias); err != nil {
			return notFound(err, "role alias", alias)
		}
		return tx.DeleteAllTags(ctx, RoleAliasARN(s.Account, alias))
	})
}

// ListRoleAliases lists role aliases by alias, descending unless ascending
// (AWS's isAscendingOrder, false when not given, as for ListPolicies).
func (s *Service) ListRoleAliases(ctx context.Context, ascending bool, pr PageRequest) ([]RoleAlias, string, error) {
	return listPage(ctx, s, pr, func(a RoleAlias) string { return a.Alias }, func(tx Tx, p Page) ([]RoleAlias, error) {
		return tx.ListRoleAliases(ctx, ascending, p)
	})
}
