// Package provision carries out just-in-time provisioning (JITP) and
// just-in-time registration (JITR) for a device certificate that a registered
// CA signed but the registry does not know yet: it renders the CA's template
// with the certificate's parameters, has the registry create everything in
// one transaction, and publishes AWS's registration event.
//
// Every attempt ends in a Result that says what happened and, on failure, the
// step and the exact reason, for the operator; the device learns nothing.
//
// There is one path from template to result: registry.PlanJITP renders the
// template into a plan for Provision, for its dry run DryRun (which runs the
// registry's transaction rolled back) and for Check, the offline dry run of
// `iotcore template check`.
package provision
