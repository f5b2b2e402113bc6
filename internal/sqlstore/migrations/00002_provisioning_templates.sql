-- Provisioning templates and their versions (the bodies). Written for both
-- SQLite and PostgreSQL, like 00001. A template's pre-provisioning hook is
-- inline: hook_target_arn is '' when the template has none.

-- +goose Up
CREATE TABLE provisioning_templates (
    name                 TEXT    NOT NULL PRIMARY KEY,
    description          TEXT    NOT NULL DEFAULT '',
    type                 TEXT    NOT NULL,
    enabled              BOOLEAN NOT NULL,
    role_arn             TEXT    NOT NULL,
    hook_target_arn      TEXT    NOT NULL DEFAULT '',
    hook_payload_version TEXT    NOT NULL DEFAULT '',
    default_version      BIGINT  NOT NULL,
    last_version         BIGINT  NOT NULL,
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT  NOT NULL
);

CREATE TABLE provisioning_template_versions (
    template_name TEXT   NOT NULL REFERENCES provisioning_templates (name) ON DELETE CASCADE,
    version_id    BIGINT NOT NULL,
    body          TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (template_name, version_id)
);

-- +goose Down
DROP TABLE provisioning_template_versions;
DROP TABLE provisioning_templates;
