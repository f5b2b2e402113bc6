// Package policy parses, validates and evaluates AWS IoT policy documents.
//
// Parse turns a document into a Document, enforcing the IAM grammar as AWS
// IoT's CreatePolicy does (testdata/parse holds the accepted and rejected
// forms); its errors are safe to show to API clients.
//
// Compile turns the documents that apply to a principal into a Set for one
// connection: the connection's policy variables (${iot:ClientId},
// ${iot:Connection.Thing.ThingName}, ...) are substituted once, wildcard
// patterns are compiled, and conditions on keys the connection knows are
// decided. Set.Decide then answers each request (iot:Connect, iot:Publish,
// ...) with Allow, ExplicitDeny or ImplicitDeny, memoising recent answers;
// Set.Explain also names the statements that matched, for TestAuthorization.
//
// Matching follows AWS IoT [DOC pub-sub-policy, iot-policy-variables]: "*"
// matches any sequence of characters across "/", "?" exactly one character,
// MQTT's "+" and "#" are literal; actions match case-insensitively,
// resources case-sensitively; any matching Deny wins over any Allow and the
// default is deny. Where AWS is silent the package follows IAM:
//   - variables are substituted only under "Version": "2012-10-17"; without
//     it (IAM's default, 2008-10-17) "${...}" is literal text;
//   - an unresolvable variable makes the Resource pattern that uses it match
//     nothing, and disables a statement that uses it in NotResource or in a
//     condition value; this holds for Deny statements too (see CompileWith);
//   - a condition on a key that is absent is false, except for Null,
//     ...IfExists, ForAllValues and negated operators (StringNotEquals,
//     NotIpAddress, ...), which are true.
//
// The package depends on the standard library only and never logs.
package policy
