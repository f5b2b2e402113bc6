-- Device shadows, classic ('' name) and named, addressed by thing name as on
-- AWS (the thing need not be in the registry). document is the shadow's
-- whole stored document (package shadow's Marshal); version is its version,
-- kept apart for the optimistic concurrency of updates. Portable SQL, like 00001.

-- +goose Up
CREATE TABLE shadows (
    thing_name  TEXT   NOT NULL,
    shadow_name TEXT   NOT NULL, -- '' for the classic shadow
    document    TEXT   NOT NULL,
    version     BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (thing_name, shadow_name)
);

-- +goose Down
DROP TABLE shadows;
