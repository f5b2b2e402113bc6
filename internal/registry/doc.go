// Package registry holds iotcore's device registry: things, thing types, thing
// groups, billing groups, certificates, CA certificates, policies and their
// versions, role aliases, provisioning templates and their versions, the
// attachments between them, tags and the registration code; and provisioning itself (JITP's
// ProvisionDevice and RegisterThing), each device in one transaction. Plan
// is the one place a provisioning template becomes a plan; PreviewDevice is
// ProvisionDevice's transaction rolled back, its dry run.
//
// The Service enforces AWS IoT's rules (states, conflicts, limits) and runs every
// multi-step change in one store transaction. It declares the Store it needs;
// adapters (internal/sqlite, later internal/postgres) implement it and prove it
// with the conformance suite in registrytest.
package registry
