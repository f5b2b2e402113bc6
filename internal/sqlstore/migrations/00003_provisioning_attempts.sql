-- The record of just-in-time provisioning and registration attempts, newest
-- first per CA and per certificate. Portable SQL, like 00001.

-- +goose Up
CREATE TABLE provisioning_attempts (
    id             TEXT   NOT NULL PRIMARY KEY,
    at             BIGINT NOT NULL,
    kind           TEXT   NOT NULL,
    ca_id          TEXT   NOT NULL,
    certificate_id TEXT   NOT NULL,
    thing_name     TEXT   NOT NULL DEFAULT '',
    outcome        TEXT   NOT NULL,
    step           TEXT   NOT NULL DEFAULT '',
    reason         TEXT   NOT NULL DEFAULT '',
    status         TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX provisioning_attempts_at ON provisioning_attempts (at, id);
CREATE INDEX provisioning_attempts_ca ON provisioning_attempts (ca_id, at, id);
CREATE INDEX provisioning_attempts_certificate ON provisioning_attempts (certificate_id, at, id);

-- +goose Down
DROP TABLE provisioning_attempts;
