package server

import (
	"github.com/iotcore/iotcore/internal/rules"
	"github.com/iotcore/iotcore/internal/shadows"
)

// openShadows starts the Device Shadow service; the broker hands it the
// shadow requests devices publish (messageSink), and the API the data
// plane's shadow operations.
func (s *Server) openShadows() {
	s.shadows = shadows.New(shadows.Config{Registry: s.Registry, Logger: s.Config.Logger})
}

// messageSink takes the messages the broker accepts: shadow requests to the
// Device Shadow service, and every message a rule may want to the rules
// engine (a rule may select shadow topics too).
type messageSink struct {
	rules   *rules.Engine
	shadows *shadows.Service
}

func (m messageSink) Wants(topic string) bool {
	return m.shadows.Wants(topic) || m.rules.Wants(topic)
}

func (m messageSink) Message(msg rules.Message) {
	if m.shadows.Wants(msg.Topic) {
		m.shadows.Handle(msg.Topic, msg.Payload)
	}
	if m.rules.Wants(msg.Topic) {
		m.rules.Message(msg)
	}
}
