package shadow

import (
	"errors"
	"fmt"
	"strings"
)

// Op is a shadow operation: what a request topic asks for.
type Op int

// The operations of the request topics …/get, …/update and …/delete.
const (
	OpGet Op = iota + 1
	OpUpdate
	OpDelete
)

// String is the operation's topic segment: "get", "update" or "delete".
func (o Op) String() string {
	switch o {
	case OpGet:
		return "get"
	case OpUpdate:
		return "update"
	case OpDelete:
		return "delete"
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// Request names a shadow and an operation on it. Name "" is the thing's
// classic (unnamed) shadow.
type Request struct {
	Thing string
	Name  string
	Op    Op
}

// Prefix is the shadow's topic prefix: $aws/things/<thing>/shadow for the
// classic shadow, $aws/things/<thing>/shadow/name/<name> for a named one.
func (r Request) Prefix() string {
	if r.Name == "" {
		return "$aws/things/" + r.Thing + "/shadow"
	}
	return "$aws/things/" + r.Thing + "/shadow/name/" + r.Name
}

// Topic is the shadow's topic for suffix, e.g. Topic("update/accepted"),
// Topic("get/rejected"), Topic("update/delta"), Topic("update/documents").
func (r Request) Topic(suffix string) string { return r.Prefix() + "/" + suffix }

// ParseRequestTopic recognizes the request topics devices and apps publish
// to: $aws/things/<thing>/shadow/{get,update,delete} and
// $aws/things/<thing>/shadow/name/<name>/{get,update,delete}, with valid
// thing and shadow names. The topics the service publishes (…/accepted,
// …/rejected, …/delta, …/documents) and any other topic are not requests.
func ParseRequestTopic(topic string) (Request, bool) {
	parts := strings.Split(topic, "/")
	if len(parts) < 5 || parts[0] != "$aws" || parts[1] != "things" || parts[3] != "shadow" {
		return Request{}, false
	}
	r := Request{Thing: parts[2]}
	var op string
	switch len(parts) {
	case 5:
		op = parts[4]
	case 7:
		if parts[4] != "name" {
			return Request{}, false
		}
		r.Name, op = parts[5], parts[6]
		if CheckShadowName(r.Name) != nil {
			return Request{}, false
		}
	default:
		return Request{}, false
	}
	switch op {
	case "get":
		r.Op = OpGet
	case "update":
		r.Op = OpUpdate
	case "delete":
		r.Op = OpDelete
	default:
		return Request{}, false
	}
	if CheckThingName(r.Thing) != nil {
		return Request{}, false
	}
	return r, true
}

// Name limits, from AWS IoT Core's quotas and the API model.
const (
	MaxThingNameLen  = 128
	MaxShadowNameLen = 64
)

// CheckThingName checks a thing name as AWS does: 1 to 128 characters of
// a-z, A-Z, 0-9, ':', '_' and '-'.
func CheckThingName(name string) error {
	return checkName("thing name", name, MaxThingNameLen)
}

// CheckShadowName checks a named shadow's name as AWS does: 1 to 64
// characters of a-z, A-Z, 0-9, ':', '_' and '-'. (The classic shadow has
// no name; callers represent it as "" and do not check it.)
func CheckShadowName(name string) error {
	return checkName("shadow name", name, MaxShadowNameLen)
}

func checkName(what, name string, max int) error {
	if name == "" {
		return errors.New(what + " must not be empty")
	}
	if len(name) > max {
		return fmt.Errorf("%s must be at most %d characters long, got %d", what, max, len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == ':' || c == '_' || c == '-') {
			return fmt.Errorf("%s %q must match [a-zA-Z0-9:_-]+", what, name)
		}
	}
	return nil
}
