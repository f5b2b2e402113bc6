// Package template parses and renders AWS IoT provisioning templates: the
// JSON documents with which just-in-time provisioning (JITP),
// RegisterThing and fleet provisioning describe the thing, certificate and
// policies to create for a device [DOC provision-template].
//
// Parse checks a template body once, when it is stored (a CA's
// registrationConfig.templateBody, a provisioning template); Render
// resolves it for one device with parameter values and returns the
// Resources to provision, each value checked against AWS's naming rules.
// For JITP the values come from the device certificate:
//
//	t, err := template.Parse(ca.Registration.TemplateBody)
//	...
//	res, err := t.Render(template.CertificateParameters(cert, certificateID))
//
// The language:
//
//   - sections Parameters (Type String, Number, List<String> or
//     CommaDelimitedList; Default; Description), Resources, Mappings,
//     DeviceConfiguration (a flat map of strings, rendered), and
//     Conditions (accepted and ignored: AWS documents no use for it);
//   - resource types AWS::IoT::Thing (ThingName, AttributePayload,
//     ThingTypeName, ThingGroups, BillingGroup), AWS::IoT::Certificate
//     (CertificateId, CertificatePem with CACertificatePem, or
//     CertificateSigningRequest; Status) and AWS::IoT::Policy (PolicyName
//     or PolicyDocument, as a string or a JSON object), at most one thing
//     and one certificate, each with OverrideSettings;
//   - the intrinsic functions Ref, Fn::Join, Fn::Sub, Fn::Select,
//     Fn::Split and Fn::FindInMap, and no others: the list is an
//     allow-list, and any other function is a Parse error naming it.
//
// Ref and Fn::Sub name a declared parameter or one of the eight
// AWS::IoT::Certificate::* parameters (which may be used undeclared).
// Unknown sections, types, properties, keys and functions are errors, with
// a suggestion when the name is a near miss of a known one.
//
// Every error is an *Error whose text is safe for API clients and says
// where and what, e.g.
//
//	Resources.thing.Properties.ThingName: Ref to unknown parameter "AWS::IoT::Certificate::Contry" (did you mean "AWS::IoT::Certificate::Country"?)
//
// Where AWS is silent the package chooses, and says so in the doc comment
// of the code concerned: GeneratedPolicyName's hash, CertificateParameters'
// SerialNumber and multi-valued attributes, a parameter without a value
// failing only when used, case-insensitive certificate Status.
//
// The package is pure: it depends on the standard library and package iot
// only, does no I/O and never logs.
package template
