package iotsql

import (
	"strings"
	"time"
)

// Input is one message as the rules engine sees it.
type Input struct {
	Topic     string        // the topic the message was published to, as published
	Payload   []byte        // the message payload, JSON or not
	ClientID  string        // clientid()
	Principal string        // principal(): certificate id for X.509 connections
	Timestamp time.Time     // timestamp() returns its Unix milliseconds
	NewUUID   func() string // newuuid(); nil means a random v4 UUID via crypto/rand
	TraceID   string        // traceid(); "" makes it Undefined
	AccountID string        // accountid(); "" makes it Undefined
	// LoadLocation resolves parse_time's IANA time zone names (time.LoadLocation
	// reads the system's tzdata, which this package leaves to its caller);
	// nil: only UTC, GMT and fixed offsets such as "+05:30" are known.
	LoadLocation func(name string) (*time.Location, error)
}

// Statement is a parsed rule query: SELECT ... FROM 'filter' [WHERE ...].
// A Statement is immutable and safe for concurrent use.
type Statement struct {
	version  string
	v1       bool
	sel      selectClause
	from     filter
	where    expr
	starOnly bool // SELECT * alone: the payload passes through unchanged
	usesDoc  bool // whether evaluation needs the decoded payload
}

// Parse parses a rule's SQL statement for the given awsIotSqlVersion
// ("" = 2016-03-23). An unknown version is an error that is not a
// *ParseError and names the accepted versions; anything wrong with the SQL
// itself is a *ParseError.
func Parse(sql, version string) (*Statement, error) {
	version, err := checkVersion(version)
	if err != nil {
		return nil, err
	}
	p := newParser(sql, 0, version == Version20151008)
	s := &Statement{version: version, v1: p.v1}
	s.sel = p.parseSelect()
	if p.err != nil {
		return nil, p.err
	}
	if !p.isKeyword("FROM") {
		if p.tok.kind == tEOF {
			p.fail(p.tok, "Expected a FROM clause")
		} else {
			p.unexpected("FROM")
		}
		return nil, p.err
	}
	p.advance()
	if p.tok.kind != tString {
		p.unexpected("a topic filter in single quotes")
		return nil, p.err
	}
	if msg := validateFilter(p.tok.text); msg != "" {
		p.fail(p.tok, "%s", msg)
		return nil, p.err
	}
	s.from = newFilter(p.tok.text)
	p.advance()
	if p.isKeyword("WHERE") {
		p.advance()
		s.where = p.parseExpr()
		if p.err != nil {
			return nil, p.err
		}
	}
	if p.tok.kind != tEOF {
		p.unexpected("WHERE or the end of the statement")
		return nil, p.err
	}
	s.starOnly = !s.sel.value && len(s.sel.items) == 1 && s.sel.items[0].star
	s.usesDoc = true
	return s, nil
}

// Topic returns the FROM clause's topic filter, unquoted, as written
// (ListTopicRules' topicPattern), e.g. "sensors/+/temp" or
// "$aws/rules/myRule/#".
func (s *Statement) Topic() string { return s.from.text }

// Version returns the statement's awsIotSqlVersion, "" resolved to
// 2016-03-23.
func (s *Statement) Version() string { return s.version }

// Matches reports whether a concrete topic matches the FROM filter, with
// MQTT's + and # wildcards; a topic starting with "$" is matched only by a
// filter that spells its first level.
func (s *Statement) Matches(topic string) bool { return s.from.matches(topic) }

// String returns the statement as canonical SQL, which Parse accepts and
// turns into the same statement: keywords in upper case, every operator
// parenthesised.
func (s *Statement) String() string {
	var b strings.Builder
	s.sel.format(&b)
	b.WriteString(" FROM ")
	(&litExpr{strV(s.from.text)}).format(&b)
	if s.where != nil {
		b.WriteString(" WHERE ")
		s.where.format(&b)
	}
	return b.String()
}

// env is the evaluation context of one message.
type env struct {
	in      Input // a copy: env and Input then cost one allocation together
	version string
	v1      bool
	payload value // the decoded payload; Undefined when it is not JSON
	doc     value // where names are looked up: the payload or a nested query's element
	depth   int
}

func newEnv(e *env, in Input, version string, v1 bool) {
	*e = env{in: in, version: version, v1: v1}
	if len(in.Payload) > 0 {
		if v, err := decodeJSON(in.Payload, v1); err == nil {
			e.payload = v
		}
	}
	e.doc = e.payload
}

// Evaluate runs the statement on one message. It does not check the topic
// against the FROM filter: that is Matches.
//
// matched is false when the WHERE clause is not true; then the actions do
// not run [DOC iot-sql-where]. out is the SELECT result as the action
// payload: a JSON object; with SELECT VALUE, the value's JSON, or nothing
// when it is Undefined [DOC iot-sql-select]; with SELECT * alone, the
// payload unchanged, JSON or not [DOC binary-payloads] (out then shares
// in.Payload's memory). err is reserved for runtime failures that AWS sends
// to the errorAction; type errors are not failures: they make a value
// Undefined, which drops its field.
func (s *Statement) Evaluate(in Input) (out []byte, matched bool, err error) {
	var e env
	if s.starOnly && s.where == nil {
		e = env{in: in, version: s.version, v1: s.v1}
	} else {
		newEnv(&e, in, s.version, s.v1)
	}
	if s.where != nil {
		if v := s.where.eval(&e); v.k != kBool || !v.b {
			return nil, false, nil
		}
	}
	if s.starOnly {
		return in.Payload, true, nil
	}
	v := s.sel.eval(&e, e.payload)
	out, _ = appendJSON(make([]byte, 0, 64), v, s.v1)
	return out, true, nil
}

// eval runs a SELECT list against doc, the payload or one element of a
// nested query.
func (c *selectClause) eval(e *env, doc value) value {
	saved := e.doc
	e.doc = doc
	defer func() { e.doc = saved }()
	if c.value {
		return c.items[0].x.eval(e)
	}
	var o []member
	if doc.k == kObject && c.items[0].star {
		o = make([]member, len(doc.o), len(doc.o)+len(c.items)-1)
		copy(o, doc.o)
	} else {
		o = make([]member, 0, len(c.items))
	}
	for i, it := range c.items {
		if it.star {
			if i > 0 && doc.k == kObject {
				for _, m := range doc.o {
					o = set(o, m.key, m.val)
				}
			}
			continue
		}
		v := it.x.eval(e)
		if v.k == kUndefined {
			continue
		}
		o = set(o, it.key, v)
	}
	return objV(o)
}
