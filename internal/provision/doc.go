// Package provision carries out just-in-time provisioning (JITP) and
// just-in-time registration (JITR) for a device certificate that a registered
// CA signed but the registry does not know yet: it renders the CA's template
// with the certificate's parameters, has the registry create everything in
// one transaction, and publishes AWS's registration event.
//
// Fleet serves fleet provisioning's device provisioning MQTT API
// (CreateKeysAndCertificate, CreateCertificateFromCsr and RegisterThing on
// $aws/certificates/ and $aws/provisioning-templates/, in JSON and CBOR) as
// a pure service: the broker hands it each request and sends its one reply
// to the requesting connection. RegisterThing renders the template with
// registry.PlanFleet, through the same registry.Plan as JITP.
//
// Every JITP or JITR attempt ends in a Result that says what happened and,
// on failure, the step and the exact reason, for the operator; the device
// learns nothing. Fleet provisioning records its attempts the same way, and
// tells the device only a statusCode, an errorCode and a safe message.
//
// There is one path from template to result: registry.PlanJITP renders the
// template into a plan for Provision, for its dry run DryRun (which runs the
// registry's transaction rolled back) and for Check, the offline dry run of
// `iotcore template check`.
package provision
