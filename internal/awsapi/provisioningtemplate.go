package awsapi

import (
	"strconv"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

type provisioningHook struct {
	PayloadVersion *string `json:"payloadVersion,omitempty"`
	TargetArn      string  `json:"targetArn"`
}

func (h *provisioningHook) toRegistry() *registry.ProvisioningHook {
	if h == nil {
		return nil
	}
	return &registry.ProvisioningHook{TargetARN: h.TargetArn, PayloadVersion: deref(h.PayloadVersion)}
}

func fromHook(h *registry.ProvisioningHook) *provisioningHook {
	if h == nil {
		return nil
	}
	return &provisioningHook{TargetArn: h.TargetARN, PayloadVersion: optional(h.PayloadVersion)}
}

// versionLabel reads the versionId path label, an integer in the model.
func versionLabel(r *request) (int64, error) {
	v := r.label("versionId")
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, iot.Errorf(iot.InvalidRequest, "versionId must be an integer, got %q", v)
	}
	return n, nil
}

func createProvisioningTemplate(s *Server, r *request) (any, error) {
	var in struct {
		TemplateName        string            `json:"templateName"`
		Description         string            `json:"description"`
		TemplateBody        string            `json:"templateBody"`
		Enabled             bool              `json:"enabled"`
		ProvisioningRoleArn string            `json:"provisioningRoleArn"`
		PreProvisioningHook *provisioningHook `json:"preProvisioningHook"`
		Tags                []iot.Tag         `json:"tags"`
		Type                string            `json:"type"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	pt, err := s.Registry.CreateProvisioningTemplate(r.Context(), registry.CreateProvisioningTemplateInput{
		Name:        in.TemplateName,
		Description: in.Description,
		Body:        in.TemplateBody,
		Enabled:     in.Enabled,
		RoleARN:     in.ProvisioningRoleArn,
		Hook:        in.PreProvisioningHook.toRegistry(),
		Type:        in.Type,
		Tags:        in.Tags,
	})
	if err != nil {
		return nil, err
	}
	return obj{"templateArn": s.Registry.Account.ProvisioningTemplateARN(pt.Name), "templateName": pt.Name, "defaultVersionId": pt.DefaultVersion}, nil
}

func describeProvisioningTemplate(s *Server, r *request) (any, error) {
	pt, err := s.Registry.ProvisioningTemplate(r.Context(), r.label("templateName"))
	if err != nil {
		return nil, err
	}
	out := obj{
		"templateArn":         s.Registry.Account.ProvisioningTemplateARN(pt.Name),
		"templateName":        pt.Name,
		"creationDate":        epoch(pt.CreatedAt),
		"lastModifiedDate":    epoch(pt.UpdatedAt),
		"defaultVersionId":    pt.DefaultVersion,
		"templateBody":        pt.Body,
		"enabled":             pt.Enabled,
		"provisioningRoleArn": pt.RoleARN,
		"type":                pt.Type,
	}
	if pt.Description != "" {
		out["description"] = pt.Description
	}
	if h := fromHook(pt.Hook); h != nil {
		out["preProvisioningHook"] = h
	}
	return out, nil
}

func listProvisioningTemplates(s *Server, r *request) (any, error) {
	return listing(r, tokens, "templates", func(pr registry.PageRequest) ([]registry.ProvisioningTemplate, string, error) {
		return s.Registry.ListProvisioningTemplates(r.Context(), pr)
	}, func(pt registry.ProvisioningTemplate) obj {
		o := obj{
			"templateArn":      s.Registry.Account.ProvisioningTemplateARN(pt.Name),
			"templateName":     pt.Name,
			"creationDate":     epoch(pt.CreatedAt),
			"lastModifiedDate": epoch(pt.UpdatedAt),
			"enabled":          pt.Enabled,
			"type":             pt.Type,
		}
		if pt.Description != "" {
			o["description"] = pt.Description
		}
		return o
	})
}

func updateProvisioningTemplate(s *Server, r *request) (any, error) {
	var in struct {
		Description               *string           `json:"description"`
		Enabled                   *bool             `json:"enabled"`
		DefaultVersionID          *int64            `json:"defaultVersionId"`
		ProvisioningRoleArn       *string           `json:"provisioningRoleArn"`
		PreProvisioningHook       *provisioningHook `json:"preProvisioningHook"`
		RemovePreProvisioningHook bool              `json:"removePreProvisioningHook"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	return nil, s.Registry.UpdateProvisioningTemplate(r.Context(), registry.UpdateProvisioningTemplateInput{
		Name:           r.label("templateName"),
		Description:    in.Description,
		Enabled:        in.Enabled,
		DefaultVersion: in.DefaultVersionID,
		RoleARN:        in.ProvisioningRoleArn,
		Hook:           in.PreProvisioningHook.toRegistry(),
		RemoveHook:     in.RemovePreProvisioningHook,
	})
}

func deleteProvisioningTemplate(s *Server, r *request) (any, error) {
	return nil, s.Registry.DeleteProvisioningTemplate(r.Context(), r.label("templateName"))
}

func createProvisioningTemplateVersion(s *Server, r *request) (any, error) {
	var in struct {
		TemplateBody string `json:"templateBody"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	setAsDefault, err := r.queryBool("setAsDefault")
	if err != nil {
		return nil, err
	}
	name := r.label("templateName")
	v, err := s.Registry.CreateProvisioningTemplateVersion(r.Context(), name, in.TemplateBody, setAsDefault)
	if err != nil {
		return nil, err
	}
	return obj{
		"templateArn":      s.Registry.Account.ProvisioningTemplateARN(name),
		"templateName":     name,
		"versionId":        v.VersionID,
		"isDefaultVersion": setAsDefault,
	}, nil
}

func describeProvisioningTemplateVersion(s *Server, r *request) (any, error) {
	id, err := versionLabel(r)
	if err != nil {
		return nil, err
	}
	v, isDefault, err := s.Registry.ProvisioningTemplateVersion(r.Context(), r.label("templateName"), id)
	if err != nil {
		return nil, err
	}
	return obj{
		"versionId":        v.VersionID,
		"creationDate":     epoch(v.CreatedAt),
		"templateBody":     v.Body,
		"isDefaultVersion": isDefault,
	}, nil
}

func listProvisioningTemplateVersions(s *Server, r *request) (any, error) {
	var pt *registry.ProvisioningTemplate
	return listing(r, tokens, "versions", func(pr registry.PageRequest) (rows []registry.ProvisioningTemplateVersion, next string, err error) {
		pt, rows, next, err = s.Registry.ListProvisioningTemplateVersions(r.Context(), r.label("templateName"), pr)
		return rows, next, err
	}, func(v registry.ProvisioningTemplateVersion) obj {
		return obj{
			"versionId":        v.VersionID,
			"creationDate":     epoch(v.CreatedAt),
			"isDefaultVersion": v.VersionID == pt.DefaultVersion,
		}
	})
}

func deleteProvisioningTemplateVersion(s *Server, r *request) (any, error) {
	id, err := versionLabel(r)
	if err != nil {
		return nil, err
	}
	return nil, s.Registry.DeleteProvisioningTemplateVersion(r.Context(), r.label("templateName"), id)
}

// createProvisioningClaim is provisioning by trusted user: a claim
// certificate valid 5 minutes for the template (registry.CreateProvisioningClaim).
func createProvisioningClaim(s *Server, r *request) (any, error) {
	c, err := s.Registry.CreateProvisioningClaim(r.Context(), r.label("templateName"))
	if err != nil {
		return nil, err
	}
	return obj{
		"certificateId":  c.Certificate.ID,
		"certificatePem": c.Certificate.PEM,
		"keyPair":        obj{"PublicKey": c.PublicKeyPEM, "PrivateKey": c.PrivateKeyPEM},
		"expiration":     epoch(c.Expiration),
	}, nil
}
