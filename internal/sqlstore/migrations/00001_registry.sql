-- The registry schema. It is written for both SQLite and PostgreSQL: TEXT for
-- strings, BIGINT epoch milliseconds for times, BOOLEAN for flags, and no
-- engine-specific types or functions. Listings page by key set, so every
-- listing has an index that starts with its filter and ends with its sort key. Links between concepts (principals, group members, policy
-- targets) carry no foreign keys: the registry service decides what deleting
-- one end does to them.

-- +goose Up
CREATE TABLE registration_codes (
    account    TEXT   NOT NULL PRIMARY KEY,
    code       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE things (
    name               TEXT   NOT NULL PRIMARY KEY,
    id                 TEXT   NOT NULL,
    type_name          TEXT   NOT NULL DEFAULT '',
    version            BIGINT NOT NULL,
    billing_group_name TEXT   NOT NULL DEFAULT '',
    created_at         BIGINT NOT NULL
);
CREATE INDEX things_by_type ON things (type_name, name);

CREATE TABLE thing_attributes (
    thing_name TEXT NOT NULL REFERENCES things (name) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (thing_name, name)
);
CREATE INDEX thing_attributes_by_value ON thing_attributes (name, value, thing_name);

CREATE TABLE thing_types (
    name                   TEXT    NOT NULL PRIMARY KEY,
    id                     TEXT    NOT NULL,
    description            TEXT    NOT NULL DEFAULT '',
    searchable_attributes  TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
    propagating_attributes TEXT    NOT NULL DEFAULT '',   -- JSON, verbatim
    deprecated             BOOLEAN NOT NULL DEFAULT FALSE,
    deprecated_at          BIGINT  NOT NULL,
    created_at             BIGINT  NOT NULL
);

CREATE TABLE thing_groups (
    name        TEXT   NOT NULL PRIMARY KEY,
    id          TEXT   NOT NULL,
    parent_name TEXT   NOT NULL DEFAULT '', -- '' for a root group
    description TEXT   NOT NULL DEFAULT '',
    attributes  TEXT   NOT NULL DEFAULT '{}', -- JSON object of strings; never filtered on
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX thing_groups_by_parent ON thing_groups (parent_name, name);

CREATE TABLE thing_group_members (
    group_name TEXT   NOT NULL,
    thing_name TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (group_name, thing_name)
);
CREATE INDEX thing_group_members_by_thing ON thing_group_members (thing_name, group_name);

CREATE TABLE ca_certificates (
    id                TEXT   NOT NULL PRIMARY KEY,
    pem               TEXT   NOT NULL,
    subject_key       TEXT   NOT NULL,
    status            TEXT   NOT NULL,
    auto_registration TEXT   NOT NULL,
    mode              TEXT   NOT NULL,
    owned_by          TEXT   NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    customer_version  BIGINT NOT NULL,
    generation_id     TEXT   NOT NULL,
    not_before        BIGINT NOT NULL,
    not_after         BIGINT NOT NULL,
    template_body     TEXT   NOT NULL DEFAULT '',
    role_arn          TEXT   NOT NULL DEFAULT '',
    template_name     TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX ca_certificates_by_subject ON ca_certificates (subject_key, created_at, id);
CREATE INDEX ca_certificates_by_cursor ON ca_certificates (created_at, id);
CREATE INDEX ca_certificates_by_template ON ca_certificates (template_name, created_at, id);

CREATE TABLE certificates (
    id               TEXT   NOT NULL PRIMARY KEY,
    pem              TEXT   NOT NULL,
    ca_id            TEXT   NOT NULL DEFAULT '', -- '' when no registered CA signed it
    status           TEXT   NOT NULL,
    mode             TEXT   NOT NULL,
    owned_by         TEXT   NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    customer_version BIGINT NOT NULL,
    generation_id    TEXT   NOT NULL,
    not_before       BIGINT NOT NULL,
    not_after        BIGINT NOT NULL
);
CREATE INDEX certificates_by_cursor ON certificates (created_at, id);
CREATE INDEX certificates_by_ca ON certificates (ca_id, created_at, id);

CREATE TABLE policies (
    name            TEXT   NOT NULL PRIMARY KEY,
    default_version BIGINT NOT NULL,
    last_version    BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    generation_id   TEXT   NOT NULL
);

CREATE TABLE policy_versions (
    policy_name TEXT   NOT NULL REFERENCES policies (name) ON DELETE CASCADE,
    version_id  BIGINT NOT NULL,
    document    TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (policy_name, version_id)
);

CREATE TABLE policy_targets (
    policy_name TEXT   NOT NULL,
    target      TEXT   NOT NULL, -- certificate ARN, thing-group ARN or Cognito identity id
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (policy_name, target)
);
CREATE INDEX policy_targets_by_target ON policy_targets (target, policy_name);

CREATE TABLE thing_principals (
    thing_name TEXT   NOT NULL,
    principal  TEXT   NOT NULL,
    type       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (thing_name, principal)
);
CREATE INDEX thing_principals_by_principal ON thing_principals (principal, thing_name);

CREATE TABLE tags (
    arn       TEXT NOT NULL,
    tag_key   TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (arn, tag_key)
);

-- +goose Down
DROP TABLE tags;
DROP TABLE thing_principals;
DROP TABLE policy_targets;
DROP TABLE policy_versions;
DROP TABLE policies;
DROP TABLE certificates;
DROP TABLE ca_certificates;
DROP TABLE thing_group_members;
DROP TABLE thing_groups;
DROP TABLE thing_types;
DROP TABLE thing_attributes;
DROP TABLE things;
DROP TABLE registration_codes;
