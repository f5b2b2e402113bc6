package server

import (
	"time"

	"github.com/iotcore/iotcore/internal/console"
)

// newConsole is the web console on the API listener, signed into with the
// admin credentials.
func (s *Server) newConsole() *console.Console {
	cfg := console.Config{
		Registry:    s.Registry,
		Credentials: console.Credentials{AccessKeyID: s.Credentials.AccessKeyID, SecretAccessKey: s.Credentials.SecretAccessKey},
		Connections: s.gate,
		Index:       s.index,
		Region:      s.Config.Region,
		Audit:       s.audit,
		Logger:      s.Config.Logger,
	}
	if s.rules != nil {
		cfg.Rules = s.rules
	}
	return console.New(cfg)
}

// ConsoleURL is the console's address on the API listener.
func (s *Server) ConsoleURL() string { return s.APIURL() + console.Prefix }

// ConsoleSignInLink is a one-time link that signs a browser into the
// console, valid for console.LinkLifetime.
func (s *Server) ConsoleSignInLink() string {
	return console.SignInLink(s.APIURL(), console.Credentials{AccessKeyID: s.Credentials.AccessKeyID, SecretAccessKey: s.Credentials.SecretAccessKey}, time.Now())
}
