package awsapi

import (
	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
)

func (s *Server) roleAliasARN(alias string) string {
	return registry.RoleAliasARN(s.Registry.Account, alias)
}

func createRoleAlias(s *Server, r *request) (any, error) {
	var in struct {
		RoleArn                   string    `json:"roleArn"`
		CredentialDurationSeconds *int      `json:"credentialDurationSeconds"`
		Tags                      []iot.Tag `json:"tags"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	a := registry.RoleAlias{Alias: r.label("roleAlias"), RoleARN: in.RoleArn}
	if in.CredentialDurationSeconds != nil {
		if *in.CredentialDurationSeconds == 0 {
			// 0 is not "the default" here: the model's minimum refuses it.
			return nil, iot.Errorf(iot.InvalidRequest, "1 validation error detected: Value '0' at 'credentialDurationSeconds' failed to satisfy constraint: Member must have value greater than or equal to %d", registry.MinCredentialDuration)
		}
		a.CredentialDurationSeconds = *in.CredentialDurationSeconds
	}
	out, err := s.Registry.CreateRoleAlias(r.Context(), a, in.Tags)
	if err != nil {
		return nil, err
	}
	return obj{"roleAlias": out.Alias, "roleAliasArn": s.roleAliasARN(out.Alias)}, nil
}

func describeRoleAlias(s *Server, r *request) (any, error) {
	a, err := s.Registry.RoleAlias(r.Context(), r.label("roleAlias"))
	if err != nil {
		return nil, err
	}
	return obj{"roleAliasDescription": obj{
		"roleAlias":                 a.Alias,
		"roleAliasArn":              s.roleAliasARN(a.Alias),
		"roleArn":                   a.RoleARN,
		"owner":                     s.Registry.Account.ID,
		"credentialDurationSeconds": a.CredentialDurationSeconds,
		"creationDate":              epoch(a.CreatedAt),
		"lastModifiedDate":          epoch(a.UpdatedAt),
	}}, nil
}

func updateRoleAlias(s *Server, r *request) (any, error) {
	var in struct {
		RoleArn                   *string `json:"roleArn"`
		CredentialDurationSeconds *int    `json:"credentialDurationSeconds"`
	}
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	out, err := s.Registry.UpdateRoleAlias(r.Context(), r.label("roleAlias"), in.RoleArn, in.CredentialDurationSeconds)
	if err != nil {
		return nil, err
	}
	return obj{"roleAlias": out.Alias, "roleAliasArn": s.roleAliasARN(out.Alias)}, nil
}

func deleteRoleAlias(s *Server, r *request) (any, error) {
	return nil, s.Registry.DeleteRoleAlias(r.Context(), r.label("roleAlias"))
}

func listRoleAliases(s *Server, r *request) (any, error) {
	asc, err := r.queryBool("isAscendingOrder")
	if err != nil {
		return nil, err
	}
	return listing(r, markers, "roleAliases", func(pr registry.PageRequest) ([]registry.RoleAlias, string, error) {
		return s.Registry.ListRoleAliases(r.Context(), asc, pr)
	}, func(a registry.RoleAlias) string { return a.Alias })
}
