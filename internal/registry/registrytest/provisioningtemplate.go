package registrytest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iotcore/iotcore/internal/registry"
)

func newProvisioningTemplate(name string) *registry.ProvisioningTemplate {
	return &registry.ProvisioningTemplate{
		Name:           name,
		Description:    "the template " + name,
		Type:           registry.TemplateTypeFleetProvisioning,
		Enabled:        true,
		RoleARN:        "arn:aws:iam::123456789012:role/Provisioning",
		Hook:           &registry.ProvisioningHook{TargetARN: "arn:aws:lambda:us-east-1:123456789012:function:hook", PayloadVersion: "2020-04-01"},
		DefaultVersion: 1,
		LastVersion:    1,
		CreatedAt:      at(7 * time.Minute),
		UpdatedAt:      at(8 * time.Minute),
	}
}

func storedProvisioningTemplate(pt *registry.ProvisioningTemplate) *registry.ProvisioningTemplate {
	c := *pt
	if pt.Hook != nil {
		h := *pt.Hook
		c.Hook = &h
	}
	c.CreatedAt, c.UpdatedAt = ms(c.CreatedAt), ms(c.UpdatedAt)
	return &c
}

func newTemplateVersion(name string, id int64) *registry.ProvisioningTemplateVersion {
	return &registry.ProvisioningTemplateVersion{
		TemplateName: name,
		VersionID:    id,
		Body:         fmt.Sprintf(`{"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":"v%d"}}}}`, id),
		CreatedAt:    at(time.Duration(id) * time.Minute),
	}
}

func storedTemplateVersion(v *registry.ProvisioningTemplateVersion) *registry.ProvisioningTemplateVersion {
	c := *v
	c.CreatedAt = ms(c.CreatedAt)
	return &c
}

func getProvisioningTemplate(t *testing.T, s registry.Store, name string) (*registry.ProvisioningTemplate, error) {
	t.Helper()
	return get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.ProvisioningTemplate, error) {
		return tx.ProvisioningTemplate(ctx, name)
	})
}

func getTemplateVersion(t *testing.T, s registry.Store, name string, id int64) (*registry.ProvisioningTemplateVersion, error) {
	t.Helper()
	return get(t, s, func(ctx context.Context, tx registry.Tx) (*registry.ProvisioningTemplateVersion, error) {
		return tx.ProvisioningTemplateVersion(ctx, name, id)
	})
}

func listTemplateVersions(t *testing.T, s registry.Store, name string) []registry.ProvisioningTemplateVersion {
	t.Helper()
	return mustGet(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.ProvisioningTemplateVersion, error) {
		return tx.ListProvisioningTemplateVersions(ctx, name, registry.Page{})
	})
}

// insertProvisioningTemplates inserts each template with version 1.
func insertProvisioningTemplates(t *testing.T, s registry.Store, templates ...*registry.ProvisioningTemplate) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx registry.Tx) error {
		for _, pt := range templates {
			if err := tx.InsertProvisioningTemplate(ctx, pt); err != nil {
				return err
			}
			if err := tx.InsertProvisioningTemplateVersion(ctx, newTemplateVersion(pt.Name, 1)); err != nil {
				return err
			}
		}
		return nil
	})
}

func templateName(pt registry.ProvisioningTemplate) string { return pt.Name }

func templateVersionCursor(v registry.ProvisioningTemplateVersion) string {
	return registry.VersionCursor(v.VersionID)
}

func testProvisioningTemplate(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"missing", func(t *testing.T, s registry.Store) {
			_, err := getProvisioningTemplate(t, s, "nope")
			wantNotFound(t, "ProvisioningTemplate", err)
			wantUpdateNotFound(t, s, "UpdateProvisioningTemplate", func(ctx context.Context, tx registry.Tx) error {
				return tx.UpdateProvisioningTemplate(ctx, newProvisioningTemplate("nope"))
			})
			wantUpdateNotFound(t, s, "DeleteProvisioningTemplate", func(ctx context.Context, tx registry.Tx) error {
				return tx.DeleteProvisioningTemplate(ctx, "nope")
			})
		}},
		{"round trip", func(t *testing.T, s registry.Store) {
			full := newProvisioningTemplate("full")
			full.Type, full.DefaultVersion, full.LastVersion = registry.TemplateTypeJITP, 3, 7
			noPayload := newProvisioningTemplate("no-payload-version")
			noPayload.Hook.PayloadVersion = ""
			bare := &registry.ProvisioningTemplate{Name: "bare", Type: registry.TemplateTypeFleetProvisioning}
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				for _, pt := range []*registry.ProvisioningTemplate{full, noPayload, bare} {
					if err := tx.InsertProvisioningTemplate(ctx, pt); err != nil {
						return err
					}
				}
				return nil
			})
			for _, want := range []*registry.ProvisioningTemplate{storedProvisioningTemplate(full), storedProvisioningTemplate(noPayload), storedProvisioningTemplate(bare)} {
				got, err := getProvisioningTemplate(t, s, want.Name)
				if err != nil {
					t.Fatalf("ProvisioningTemplate(%q): %v", want.Name, err)
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("ProvisioningTemplate(%q) (-want +got):\n%s", want.Name, d)
				}
			}
		}},
		{"insert taken name", func(t *testing.T, s registry.Store) {
			insertProvisioningTemplates(t, s, newProvisioningTemplate("t1"))
			other := newProvisioningTemplate("t1")
			other.Type, other.Hook = registry.TemplateTypeJITP, nil
			wantUpdateError(t, s, "InsertProvisioningTemplate of a taken name", func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertProvisioningTemplate(ctx, other)
			})
			want := storedProvisioningTemplate(newProvisioningTemplate("t1"))
			if got, _ := getProvisioningTemplate(t, s, "t1"); !cmp.Equal(want, got) {
				t.Errorf("template after a failed insert (-want +got):\n%s", cmp.Diff(want, got))
			}
		}},
		{"update", func(t *testing.T, s registry.Store) {
			insertProvisioningTemplates(t, s, newProvisioningTemplate("t1"), newProvisioningTemplate("t2"))
			changed := newProvisioningTemplate("t1")
			changed.Description, changed.Enabled, changed.RoleARN = "", false, "arn:aws:iam::123456789012:role/Other"
			changed.Hook = nil
			changed.DefaultVersion, changed.LastVersion, changed.UpdatedAt = 2, 4, at(time.Hour)
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.UpdateProvisioningTemplate(ctx, changed) })
			for _, want := range []*registry.ProvisioningTemplate{storedProvisioningTemplate(changed), storedProvisioningTemplate(newProvisioningTemplate("t2"))} {
				if got, _ := getProvisioningTemplate(t, s, want.Name); !cmp.Equal(want, got) {
					t.Errorf("ProvisioningTemplate(%q) after update (-want +got):\n%s", want.Name, cmp.Diff(want, got))
				}
			}
			// A hook can be set again.
			changed.Hook = &registry.ProvisioningHook{TargetARN: "arn:aws:lambda:us-east-1:123456789012:function:new"}
			update(t, s, func(ctx context.Context, tx registry.Tx) error { return tx.UpdateProvisioningTemplate(ctx, changed) })
			if got, _ := getProvisioningTemplate(t, s, "t1"); !cmp.Equal(storedProvisioningTemplate(changed), got) {
				t.Errorf("template after setting a hook (-want +got):\n%s", cmp.Diff(storedProvisioningTemplate(changed), got))
			}
		}},
		{"delete removes versions", func(t *testing.T, s registry.Store) {
			insertProvisioningTemplates(t, s, newProvisioningTemplate("t1"), newProvisioningTemplate("t2"))
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				for id := int64(2); id <= 3; id++ {
					if err := tx.InsertProvisioningTemplateVersion(ctx, newTemplateVersion("t1", id)); err != nil {
						return err
					}
				}
				return tx.DeleteProvisioningTemplate(ctx, "t1")
			})
			_, err := getProvisioningTemplate(t, s, "t1")
			wantNotFound(t, "deleted template", err)
			for id := int64(1); id <= 3; id++ {
				_, err := getTemplateVersion(t, s, "t1", id)
				wantNotFound(t, fmt.Sprintf("version %d of the deleted template", id), err)
			}
			// A template of the same name starts without the old versions.
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertProvisioningTemplate(ctx, newProvisioningTemplate("t1"))
			})
			if versions := listTemplateVersions(t, s, "t1"); len(versions) != 0 {
				t.Errorf("versions of a recreated template: got %v, want none", versions)
			}
			want := []registry.ProvisioningTemplateVersion{*storedTemplateVersion(newTemplateVersion("t2", 1))}
			if d := diff(want, listTemplateVersions(t, s, "t2")); d != "" {
				t.Errorf("versions of the other template (-want +got):\n%s", d)
			}
		}},
		{"list pages", func(t *testing.T, s registry.Store) {
			for _, name := range slices.Backward(sortedNames) {
				insertProvisioningTemplates(t, s, newProvisioningTemplate(name))
			}
			var want []registry.ProvisioningTemplate
			for _, name := range sortedNames {
				want = append(want, *storedProvisioningTemplate(newProvisioningTemplate(name)))
			}
			checkPages(t, s, want, templateName, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.ProvisioningTemplate, error) {
				return tx.ListProvisioningTemplates(ctx, p)
			})
		}},
	})
}

func testProvisioningTemplateVersion(t *testing.T, open Opener) {
	runAll(t, open, []subtest{
		{"missing", func(t *testing.T, s registry.Store) {
			insertProvisioningTemplates(t, s, newProvisioningTemplate("t1"))
			for _, tc := range []struct {
				template string
				id       int64
			}{{"t1", 2}, {"nope", 1}} {
				_, err := getTemplateVersion(t, s, tc.template, tc.id)
				wantNotFound(t, fmt.Sprintf("ProvisioningTemplateVersion(%q, %d)", tc.template, tc.id), err)
				wantUpdateNotFound(t, s, fmt.Sprintf("DeleteProvisioningTemplateVersion(%q, %d)", tc.template, tc.id), func(ctx context.Context, tx registry.Tx) error {
					return tx.DeleteProvisioningTemplateVersion(ctx, tc.template, tc.id)
				})
			}
			if versions := listTemplateVersions(t, s, "nope"); len(versions) != 0 {
				t.Errorf("versions of a missing template: got %v, want none", versions)
			}
		}},
		{"insert, list lowest first, delete", func(t *testing.T, s registry.Store) {
			insertProvisioningTemplates(t, s, newProvisioningTemplate("t1"), newProvisioningTemplate("t2"))
			update(t, s, func(ctx context.Context, tx registry.Tx) error {
				// Out of order, with a gap, and past 9 (ids compare as numbers, not text).
				for _, id := range []int64{3, 12, 2, 5, 10} {
					if err := tx.InsertProvisioningTemplateVersion(ctx, newTemplateVersion("t1", id)); err != nil {
						return err
					}
				}
				return tx.DeleteProvisioningTemplateVersion(ctx, "t1", 5)
			})
			var want []registry.ProvisioningTemplateVersion
			for _, id := range []int64{1, 2, 3, 10, 12} {
				want = append(want, *storedTemplateVersion(newTemplateVersion("t1", id)))
			}
			if d := diff(want, listTemplateVersions(t, s, "t1")); d != "" {
				t.Errorf("ListProvisioningTemplateVersions (-want +got):\n%s", d)
			}
			for _, w := range want {
				got, err := getTemplateVersion(t, s, "t1", w.VersionID)
				if err != nil {
					t.Fatalf("ProvisioningTemplateVersion(t1, %d): %v", w.VersionID, err)
				}
				if d := cmp.Diff(&w, got); d != "" {
					t.Errorf("ProvisioningTemplateVersion(t1, %d) (-want +got):\n%s", w.VersionID, d)
				}
			}
			_, err := getTemplateVersion(t, s, "t1", 5)
			wantNotFound(t, "deleted template version", err)
			checkPages(t, s, want, templateVersionCursor, func(ctx context.Context, tx registry.Tx, p registry.Page) ([]registry.ProvisioningTemplateVersion, error) {
				return tx.ListProvisioningTemplateVersions(ctx, "t1", p)
			})
		}},
		{"insert taken version", func(t *testing.T, s registry.Store) {
			insertProvisioningTemplates(t, s, newProvisioningTemplate("t1"))
			other := newTemplateVersion("t1", 1)
			other.Body = "{}"
			wantUpdateError(t, s, "InsertProvisioningTemplateVersion of a taken id", func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertProvisioningTemplateVersion(ctx, other)
			})
			got, err := getTemplateVersion(t, s, "t1", 1)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(storedTemplateVersion(newTemplateVersion("t1", 1)), got); d != "" {
				t.Errorf("template version after a failed insert (-want +got):\n%s", d)
			}
		}},
		{"insert for a missing template", func(t *testing.T, s registry.Store) {
			wantUpdateError(t, s, "InsertProvisioningTemplateVersion of a missing template", func(ctx context.Context, tx registry.Tx) error {
				return tx.InsertProvisioningTemplateVersion(ctx, newTemplateVersion("nope", 1))
			})
		}},
		{"list with a bad cursor", func(t *testing.T, s registry.Store) {
			insertProvisioningTemplates(t, s, newProvisioningTemplate("t1"))
			_, err := get(t, s, func(ctx context.Context, tx registry.Tx) ([]registry.ProvisioningTemplateVersion, error) {
				return tx.ListProvisioningTemplateVersions(ctx, "t1", registry.Page{After: "not a cursor", Limit: 10})
			})
			wantError(t, "ListProvisioningTemplateVersions after a malformed cursor", err)
		}},
	})
}
