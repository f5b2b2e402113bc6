-- Trusted-user provisioning claims (CreateProvisioningClaim): the template a
-- temporary claim certificate is for; '' for every other certificate.
-- Portable SQL, like 00001.

-- +goose Up
ALTER TABLE certificates ADD COLUMN provisioning_claim TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE certificates DROP COLUMN provisioning_claim;
