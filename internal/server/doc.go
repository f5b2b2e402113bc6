// Package server assembles a running iotcore gateway from its parts: the data
// directory (database, credentials, CAs, server certificate), the registry and
// the control-plane API listener. cmd/iotcore parses configuration into a
// Config and calls Open, Run and Close; end-to-end tests do the same with
// ":0" addresses and a temporary directory.
package server
