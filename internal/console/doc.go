// Package console is iotcore's web console: server-rendered HTML pages on
// the API listener at /console/, embedded in the binary and working offline,
// where an operator signs in with the admin access key (or a one-time link
// that serve prints) and sees the fleet: things, certificates, CA
// certificates, policies, provisioning templates, provisioning attempts with
// their reasons, connected devices and topic rules, with an MQTT test client
// that connects from the browser over a SigV4-presigned WebSocket.
//
// The stack is html/template and a few small ES modules, no build step (see
// docs/console.md for why). Every page reads one page of the registry
// (server-side paging and search), so none loads the whole fleet.
//
// Files:
//   - console.go: Config, the handler and its routes.
//   - session.go: sign-in (access key and secret, or a one-time link), the
//     session cookie, sign-out.
//   - security.go: the security headers (a CSP without inline script, no
//     framing) and the CSRF checks of every state-changing request.
//   - render.go: the embedded templates and assets, and the error pages.
//   - one file per page: things.go, certificates.go, cacertificates.go,
//     policies.go, templates.go, attempts.go, connections.go, rules.go, mqtt.go.
package console
