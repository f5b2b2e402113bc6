-- Billing groups and role aliases. A thing is in at most one billing group:
-- its things.billing_group_name (00001), '' for none, which this migration
-- indexes for ListThingsInBillingGroup. Portable SQL, like 00001.

-- +goose Up
CREATE TABLE billing_groups (
    name        TEXT   NOT NULL PRIMARY KEY,
    id          TEXT   NOT NULL,
    description TEXT   NOT NULL DEFAULT '',
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE INDEX things_by_billing_group ON things (billing_group_name, name);

CREATE TABLE role_aliases (
    alias                       TEXT   NOT NULL PRIMARY KEY,
    role_arn                    TEXT   NOT NULL,
    credential_duration_seconds BIGINT NOT NULL,
    created_at                  BIGINT NOT NULL,
    updated_at                  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE role_aliases;
DROP INDEX things_by_billing_group;
DROP TABLE billing_groups;
