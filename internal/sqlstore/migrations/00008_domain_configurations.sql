-- Domain configurations (CreateDomainConfiguration and the rest), and the
-- default ones (iot:Data-ATS...) once UpdateDomainConfiguration changed
-- them. What iotcore does not act on is kept as the client sent it, in one
-- JSON object (settings). Portable SQL, like 00001.

-- +goose Up
CREATE TABLE domain_configurations (
    name              TEXT   NOT NULL PRIMARY KEY,
    id                TEXT   NOT NULL DEFAULT '', -- the ARN's random suffix
    domain_name       TEXT   NOT NULL DEFAULT '',
    domain_type       TEXT   NOT NULL,
    service_type      TEXT   NOT NULL,
    status            TEXT   NOT NULL,
    settings          TEXT   NOT NULL DEFAULT '{}', -- JSON of registry.DomainSettings
    created_at        BIGINT NOT NULL,
    status_changed_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE domain_configurations;
