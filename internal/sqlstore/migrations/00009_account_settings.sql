-- Account-wide settings kept as JSON under a name: the fleet index's
-- configuration (UpdateIndexingConfiguration). Portable SQL, like 00001.

-- +goose Up
CREATE TABLE account_settings (
    name       TEXT   NOT NULL PRIMARY KEY,
    value      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE account_settings;
