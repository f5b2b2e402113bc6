package registry

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"unicode/utf8"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/template"
)

// MaxTemplateVersions is how many versions a provisioning template keeps;
// creating one more fails with VersionsLimitExceededException. AWS's
// number is not in the API model; 5 is its limit for policy versions and
// the one usually quoted for templates (UNCERTAIN).
const MaxTemplateVersions = 5

// MaxTemplateBody is the model's limit on a template body, in characters.
const MaxTemplateBody = 10240

// Rules for provisioning-template fields, from the botocore model.
var (
	templateDescriptionRule = iot.NameRule{What: "description", Min: 0, Max: 500, Pattern: regexp.MustCompile(`^[^\p{C}]*$`)}
	provisioningRoleARNRule = iot.NameRule{What: "provisioningRoleArn", Min: 20, Max: 2048}
	hookTargetRule          = iot.NameRule{What: "preProvisioningHook.targetArn", Min: 1, Max: 2048}
	hookPayloadVersionRule  = iot.NameRule{What: "preProvisioningHook.payloadVersion", Min: 10, Max: 32, Pattern: regexp.MustCompile(`^[0-9-]+$`)}
)

// checkTemplateBody parses a template body when it is saved, so that a
// broken template is refused at once rather than when a device connects. A
// JITP template must also be able to provision a device from its
// certificate alone (template.CheckJITP). The InvalidRequestException
// carries the template package's message, which names the place, e.g.
// "Resources.thing.Properties.ThingName: ...".
func checkTemplateBody(body string, jitp bool) (*template.Template, error) {
	if n := utf8.RuneCountInString(body); n > MaxTemplateBody {
		return nil, iot.Errorf(iot.InvalidRequest, "templateBody is %d characters long; the limit is %d", n, MaxTemplateBody)
	}
	t, err := template.Parse(body)
	if err != nil {
		return nil, templateError(err)
	}
	if jitp {
		if err := t.CheckJITP(); err != nil {
			return nil, templateError(err)
		}
	}
	return t, nil
}

// templateError is an InvalidRequestException with the template package's
// message, which is safe for clients.
func templateError(err error) error {
	return &iot.Error{Code: iot.InvalidRequest, Message: err.Error(), Err: err}
}

// checkHook validates a pre-provisioning hook, which only fleet-provisioning
// templates may have [MODEL].
func checkHook(h *ProvisioningHook, typ string) error {
	if h == nil {
		return nil
	}
	if typ != TemplateTypeFleetProvisioning {
		return iot.Errorf(iot.InvalidRequest, "a pre-provisioning hook is allowed only on %s templates, not %s", TemplateTypeFleetProvisioning, typ)
	}
	if err := hookTargetRule.Check(h.TargetARN); err != nil {
		return err
	}
	if h.PayloadVersion != "" {
		return hookPayloadVersionRule.Check(h.PayloadVersion)
	}
	return nil
}

// CreateProvisioningTemplateInput is CreateProvisioningTemplate's input.
type CreateProvisioningTemplateInput struct {
	Name        string
	Description string
	Body        string
	Enabled     bool
	RoleARN     string
	Hook        *ProvisioningHook
	Type        string // "" means FLEET_PROVISIONING
	Tags        []iot.Tag
}

// CreateProvisioningTemplate creates a template whose version 1 is the body.
func (s *Service) CreateProvisioningTemplate(ctx context.Context, in CreateProvisioningTemplateInput) (*ProvisioningTemplate, error) {
	if err := iot.TemplateNameRule.Check(in.Name); err != nil {
		return nil, err
	}
	if err := templateDescriptionRule.Check(in.Description); err != nil {
		return nil, err
	}
	typ := in.Type
	switch typ {
	case "":
		typ = TemplateTypeFleetProvisioning
	case TemplateTypeFleetProvisioning, TemplateTypeJITP:
	default:
		return nil, iot.Errorf(iot.InvalidRequest, "type must be FLEET_PROVISIONING or JITP, got %q", typ)
	}
	if err := provisioningRoleARNRule.Check(in.RoleARN); err != nil {
		return nil, err
	}
	if err := checkHook(in.Hook, typ); err != nil {
		return nil, err
	}
	if err := iot.CheckTags(in.Tags); err != nil {
		return nil, err
	}
	tmpl, err := checkTemplateBody(in.Body, typ == TemplateTypeJITP)
	if err != nil {
		return nil, err
	}
	var out *ProvisioningTemplate
	err = s.update(ctx, func(tx Tx, c *change) error {
		if _, err := tx.ProvisioningTemplate(ctx, in.Name); err == nil {
			return iot.AlreadyExists("provisioning template", in.Name, in.Name, s.Account.ProvisioningTemplateARN(in.Name))
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		pt := &ProvisioningTemplate{
			Name: in.Name, Description: in.Description, Type: typ, Enabled: in.Enabled, RoleARN: in.RoleARN,
			Hook: in.Hook, DefaultVersion: 1, LastVersion: 1, CreatedAt: c.now, UpdatedAt: c.now,
		}
		if err := tx.InsertProvisioningTemplate(ctx, pt); err != nil {
			return err
		}
		v := &ProvisioningTemplateVersion{TemplateName: in.Name, VersionID: 1, Body: in.Body, CreatedAt: c.now}
		if err := tx.InsertProvisioningTemplateVersion(ctx, v); err != nil {
			return err
		}
		out = pt
		return tx.PutTags(ctx, s.Account.ProvisioningTemplateARN(in.Name), in.Tags)
	})
	if err == nil {
		s.warnForeignARNs(ctx, "provisioning template", in.Name, templatePolicies(tmpl))
	}
	return out, err
}

// ProvisioningTemplateWithBody is a template with its default version's body.
type ProvisioningTemplateWithBody struct {
	ProvisioningTemplate
	Body string
}

// ProvisioningTemplate describes a template, with the body of its default
// version; JITP uses it for a CA whose registrationConfig names a template.
func (s *Service) ProvisioningTemplate(ctx context.Context, name string) (*ProvisioningTemplateWithBody, error) {
	if err := iot.TemplateNameRule.Check(name); err != nil {
		return nil, err
	}
	var out *ProvisioningTemplateWithBody
	err := s.view(ctx, func(tx Tx) error {
		pt, err := tx.ProvisioningTemplate(ctx, name)
		if err != nil {
			return notFound(err, "provisioning template", name)
		}
		v, err := tx.ProvisioningTemplateVersion(ctx, name, pt.DefaultVersion)
		if err != nil {
			return err
		}
		out = &ProvisioningTemplateWithBody{ProvisioningTemplate: *pt, Body: v.Body}
		return nil
	})
	return out, err
}

// ListProvisioningTemplates lists templates by name.
func (s *Service) ListProvisioningTemplates(ctx context.Context, pr PageRequest) ([]ProvisioningTemplate, string, error) {
	return listPage(ctx, s, pr, templateName, func(tx Tx, p Page) ([]ProvisioningTemplate, error) {
		return tx.ListProvisioningTemplates(ctx, p)
	})
}

func templateName(t ProvisioningTemplate) string { return t.Name }

// UpdateProvisioningTemplateInput is UpdateProvisioningTemplate's input; nil
// fields are left as they are. A template's type never changes.
type UpdateProvisioningTemplateInput struct {
	Name           string
	Description    *string
	Enabled        *bool
	DefaultVersion *int64
	RoleARN        *string
	Hook           *ProvisioningHook
	RemoveHook     bool
}

// UpdateProvisioningTemplate changes a template's description, enabled
// state, default version, role or pre-provisioning hook.
func (s *Service) UpdateProvisioningTemplate(ctx context.Context, in UpdateProvisioningTemplateInput) error {
	if err := iot.TemplateNameRule.Check(in.Name); err != nil {
		return err
	}
	if in.Description != nil {
		if err := templateDescriptionRule.Check(*in.Description); err != nil {
			return err
		}
	}
	if in.RoleARN != nil {
		if err := provisioningRoleARNRule.Check(*in.RoleARN); err != nil {
			return err
		}
	}
	if in.Hook != nil && in.RemoveHook {
		return iot.Errorf(iot.InvalidRequest, "preProvisioningHook and removePreProvisioningHook cannot be used together")
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		pt, err := tx.ProvisioningTemplate(ctx, in.Name)
		if err != nil {
			return notFound(err, "provisioning template", in.Name)
		}
		if err := checkHook(in.Hook, pt.Type); err != nil {
			return err
		}
		if in.DefaultVersion != nil {
			if _, err := tx.ProvisioningTemplateVersion(ctx, in.Name, *in.DefaultVersion); err != nil {
				return notFound(err, "provisioning template version", versionName(in.Name, *in.DefaultVersion))
			}
			pt.DefaultVersion = *in.DefaultVersion
		}
		if in.Description != nil {
			pt.Description = *in.Description
		}
		if in.Enabled != nil {
			pt.Enabled = *in.Enabled
		}
		if in.RoleARN != nil {
			pt.RoleARN = *in.RoleARN
		}
		if in.Hook != nil {
			pt.Hook = in.Hook
		}
		if in.RemoveHook {
			pt.Hook = nil
		}
		pt.UpdatedAt = c.now
		return tx.UpdateProvisioningTemplate(ctx, pt)
	})
}

// DeleteProvisioningTemplate deletes a template with all its versions and
// tags. A template that a CA's registrationConfig names cannot be deleted
// (DeleteConflictException): JITP from that CA would fail.
func (s *Service) DeleteProvisioningTemplate(ctx context.Context, name string) error {
	if err := iot.TemplateNameRule.Check(name); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		if _, err := tx.ProvisioningTemplate(ctx, name); err != nil {
			return notFound(err, "provisioning template", name)
		}
		users, err := tx.ListCACertificates(ctx, CACertificateFilter{TemplateName: name}, Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return iot.Errorf(iot.DeleteConflict, "the provisioning template %s is the registrationConfig of the CA certificate %s: change or remove that first", name, users[0].ID)
		}
		if err := tx.DeleteProvisioningTemplate(ctx, name); err != nil {
			return err
		}
		return tx.DeleteAllTags(ctx, s.Account.ProvisioningTemplateARN(name))
	})
}

// CreateProvisioningTemplateVersion adds a version, making it the default
// when asked. A template keeps at most MaxTemplateVersions versions.
func (s *Service) CreateProvisioningTemplateVersion(ctx context.Context, name, body string, setAsDefault bool) (*ProvisioningTemplateVersion, error) {
	if err := iot.TemplateNameRule.Check(name); err != nil {
		return nil, err
	}
	t, err := checkTemplateBody(body, false)
	if err != nil {
		return nil, err
	}
	var v *ProvisioningTemplateVersion
	err = s.update(ctx, func(tx Tx, c *change) error {
		pt, err := tx.ProvisioningTemplate(ctx, name)
		if err != nil {
			return notFound(err, "provisioning template", name)
		}
		if pt.Type == TemplateTypeJITP {
			if err := t.CheckJITP(); err != nil {
				return templateError(err)
			}
		}
		versions, err := tx.ListProvisioningTemplateVersions(ctx, name, Page{})
		if err != nil {
			return err
		}
		if len(versions) >= MaxTemplateVersions {
			return iot.Errorf(iot.VersionsLimitExceeded, "the provisioning template %s already has the maximum of %d versions: delete one first", name, MaxTemplateVersions)
		}
		pt.LastVersion++
		v = &ProvisioningTemplateVersion{TemplateName: name, VersionID: pt.LastVersion, Body: body, CreatedAt: c.now}
		if err := tx.InsertProvisioningTemplateVersion(ctx, v); err != nil {
			return err
		}
		if setAsDefault {
			pt.DefaultVersion = v.VersionID
		}
		pt.UpdatedAt = c.now
		return tx.UpdateProvisioningTemplate(ctx, pt)
	})
	if err != nil {
		return nil, err
	}
	s.warnForeignARNs(ctx, "provisioning template version", versionName(name, v.VersionID), templatePolicies(t))
	return v, nil
}

// ProvisioningTemplateVersion returns one version of a template and whether
// it is the default.
func (s *Service) ProvisioningTemplateVersion(ctx context.Context, name string, id int64) (*ProvisioningTemplateVersion, bool, error) {
	if err := iot.TemplateNameRule.Check(name); err != nil {
		return nil, false, err
	}
	var v *ProvisioningTemplateVersion
	var isDefault bool
	err := s.view(ctx, func(tx Tx) error {
		pt, err := tx.ProvisioningTemplate(ctx, name)
		if err != nil {
			return notFound(err, "provisioning template", name)
		}
		if v, err = tx.ProvisioningTemplateVersion(ctx, name, id); err != nil {
			return notFound(err, "provisioning template version", versionName(name, id))
		}
		isDefault = pt.DefaultVersion == id
		return nil
	})
	return v, isDefault, err
}

// ListProvisioningTemplateVersions lists a template's versions, lowest id
// first, with the template (whose DefaultVersion says which is the default).
func (s *Service) ListProvisioningTemplateVersions(ctx context.Context, name string, pr PageRequest) (*ProvisioningTemplate, []ProvisioningTemplateVersion, string, error) {
	if err := iot.TemplateNameRule.Check(name); err != nil {
		return nil, nil, "", err
	}
	var pt *ProvisioningTemplate
	rows, next, err := listPage(ctx, s, pr, func(v ProvisioningTemplateVersion) string { return VersionCursor(v.VersionID) }, func(tx Tx, p Page) ([]ProvisioningTemplateVersion, error) {
		var err error
		if pt, err = tx.ProvisioningTemplate(ctx, name); err != nil {
			return nil, notFound(err, "provisioning template", name)
		}
		return tx.ListProvisioningTemplateVersions(ctx, name, p)
	})
	if err != nil {
		return nil, nil, "", err
	}
	return pt, rows, next, nil
}

// DeleteProvisioningTemplateVersion deletes a version that is not the default.
func (s *Service) DeleteProvisioningTemplateVersion(ctx context.Context, name string, id int64) error {
	if err := iot.TemplateNameRule.Check(name); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, c *change) error {
		pt, err := tx.ProvisioningTemplate(ctx, name)
		if err != nil {
			return notFound(err, "provisioning template", name)
		}
		if _, err := tx.ProvisioningTemplateVersion(ctx, name, id); err != nil {
			return notFound(err, "provisioning template version", versionName(name, id))
		}
		if pt.DefaultVersion == id {
			return iot.Errorf(iot.DeleteConflict, "version %d is the default version of the provisioning template %s and cannot be deleted", id, name)
		}
		return tx.DeleteProvisioningTemplateVersion(ctx, name, id)
	})
}

// checkTemplateReference checks, inside the transaction that saves a CA's
// registrationConfig, that a templateName names an existing JITP template
// [DOC jit-provisioning].
func (s *Service) checkTemplateReference(ctx context.Context, tx Tx, rc *RegistrationConfig) error {
	if rc == nil || rc.TemplateName == "" {
		return nil
	}
	pt, err := tx.ProvisioningTemplate(ctx, rc.TemplateName)
	if err != nil {
		return notFound(err, "provisioning template", rc.TemplateName)
	}
	if pt.Type != TemplateTypeJITP {
		return iot.Errorf(iot.InvalidRequest, "registrationConfig.templateName %s is a %s template; a CA needs a template of type JITP", rc.TemplateName, pt.Type)
	}
	return nil
}

func versionName(name string, id int64) string {
	return fmt.Sprintf("%s version %d", name, id)
}
