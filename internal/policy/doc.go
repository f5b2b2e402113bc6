// Package policy parses, validates and evaluates AWS IoT policy documents.
//
// Parse turns a document into a Document, enforcing the IAM grammar as AWS
// IoT's CreatePolicy does (see the package's testdata for the accepted and
// rejected forms); its errors are safe to show to API clients.
//
// Compile turns the documents attached to a principal into a Set for one
// connection: the connection's policy variables (${iot:ClientId},
// ${iot:Connection.Thing.ThingName}, ...) are substituted once, wildcard
// patterns are compiled, and conditions on connection-wide keys are decided.
// Set.Decide then answers each request (iot:Connect, iot:Publish, ...)
// with Allow, ExplicitDeny or ImplicitDeny, memoising recent answers.
//
// Matching follows AWS IoT: "*" matches any sequence of characters across
// "/", "?" exactly one character, MQTT's "+" and "#" are literal; actions
// match case-insensitively, resources case-sensitively; any matching Deny
// wins over any Allow and the default is deny.
//
// The package depends on the standard library only and never logs.
package policy
