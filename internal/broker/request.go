package broker

import (
	"context"
	"strings"
)

// RequestHandler serves the request topics of AWS's device APIs, such as
// fleet provisioning's $aws/certificates/create/json: a PUBLISH to one of
// them by an admitted connection, once its policies allowed iot:Publish, is
// a request and goes to no subscriber. The handler answers on the request
// topic's reply topics (RequestReplyTopic) and AWS delivers the answer only
// to the connection that asked [AWS 6.1], if it subscribed to the reply
// topic and its policies allow iot:Receive on it.
type RequestHandler interface {
	// HandlesRequest reports whether topic is one of the handler's request topics.
	HandlesRequest(topic string) bool
	// HandleRequest serves a request published by clientID, which
	// authenticated with the certificate certificateID; reply sends one
	// answer to that connection only.
	HandleRequest(ctx context.Context, clientID, certificateID, topic string, payload []byte, reply func(topic string, payload []byte))
}

// Reply topics: a request topic followed by one of these.
const (
	ReplyAccepted = "/accepted"
	ReplyRejected = "/rejected"
)

// RequestReplyTopic reports whether topic is the accepted or rejected reply
// topic of one of h's request topics. Only the server publishes there: a
// device's publish to one is denied whatever its policies say.
func RequestReplyTopic(h RequestHandler, topic string) bool {
	if h == nil {
		return false
	}
	for _, suffix := range []string{ReplyAccepted, ReplyRejected} {
		if request, ok := strings.CutSuffix(topic, suffix); ok && h.HandlesRequest(request) {
			return true
		}
	}
	return false
}
