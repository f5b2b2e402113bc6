package policy

// Decision is the outcome of evaluating a request against a Set. The zero
// value is ImplicitDeny.
type Decision int

// The three outcomes, as AWS's TestAuthorization names them
// (authDecision ALLOWED | EXPLICIT_DENY | IMPLICIT_DENY).
const (
	ImplicitDeny Decision = iota // no statement allows the request
	Allow                        // an Allow statement matches and no Deny does
	ExplicitDeny                 // a Deny statement matches
)

// String returns the AWS name of d.
func (d Decision) String() string {
	switch d {
	case Allow:
		return "ALLOWED"
	case ExplicitDeny:
		return "EXPLICIT_DENY"
	case ImplicitDeny:
		return "IMPLICIT_DENY"
	}
	return "Decision(invalid)"
}

// Allowed reports whether d permits the request.
func (d Decision) Allowed() bool { return d == Allow }

// Options tunes Compile.
type Options struct {
	// CacheSize bounds the decisions a Set memoises. Zero means
	// DefaultCacheSize; a negative value disables the cache.
	CacheSize int
}

// DefaultCacheSize is the number of (action, resource) decisions a Set keeps
// by default. A Set usually serves one connection, which uses few topics;
// the bound keeps a connection that walks many topics from growing it.
const DefaultCacheSize = 64

// Set is the compiled form of the policies that apply to one principal on
// one connection: variables substituted, patterns compiled, conditions that
// depend only on the connection already decided. It is immutable apart
// from its cache and safe for concurrent use. A nil *Set denies everything.
type Set struct {
	stmts []compiledStatement
	// dynamic is set when a statement has conditions left for Decide,
	// which then depend on the request context.
	dynamic bool
	cache   *decisionCache
}

// compiledStatement is a Statement ready to match.
type compiledStatement struct {
	deny        bool
	ref         StatementRef
	actions     []glob
	notAction   bool
	resources   []glob
	notResource bool
	conditions  []condition // those that Compile could not decide
}

// StatementRef locates a statement: Doc indexes the documents given to
// Compile, Statement the document's Statements.
type StatementRef struct {
	Doc, Statement int
}

// Compile prepares docs for evaluation with the connection's variables,
// which may be nil. See CompileWith.
func Compile(docs []*Document, vars Variables) *Set {
	return CompileWith(docs, vars, Options{})
}

// CompileWith prepares docs for evaluation. It substitutes the policy
// variables of every Resource and condition value once, from vars, and
// evaluates now each condition whose key vars knows; conditions on other
// keys are evaluated by Decide against the request context (so a key that
// vars knows cannot be overridden per request). The caller compiles again
// when the documents or the variables change, e.g. a thing's attributes.
//
// Unresolvable variables follow AWS's "the statement does not match"
// [DOC thing-policy-examples], narrowly:
//   - in a Resource pattern, that pattern matches nothing; the statement's
//     other patterns still apply;
//   - in a NotResource pattern or a condition value, the whole statement
//     matches nothing (dropping only the pattern or value would widen what
//     the statement covers).
//
// The same holds for Deny statements: a Deny whose pattern cannot be
// resolved does not deny. This mirrors IAM, where an unresolved variable
// makes the policy element false whatever the effect. Denying "everything
// when the variable is missing" would instead lock out devices over an
// absent thing attribute; a policy that must fail closed can Allow only
// with the variable, which then denies implicitly.
func CompileWith(docs []*Document, vars Variables, opts Options) *Set {
	s := &Set{}
	for di, d := range docs {
		if d == nil {
			continue
		}
		for si := range d.Statements {
			cs, ok := compileStatement(&d.Statements[si], d.VariablesEnabled(), vars)
			if !ok {
				continue
			}
			cs.ref = StatementRef{Doc: di, Statement: si}
			if len(cs.conditions) > 0 {
				s.dynamic = true
			}
			s.stmts = append(s.stmts, cs)
		}
	}
	size := opts.CacheSize
	if size == 0 {
		size = DefaultCacheSize
	}
	if size > 0 {
		s.cache = newDecisionCache(size)
	}
	return s
}

// compileStatement reports false when the statement can never match.
func compileStatement(st *Statement, enabled bool, vars Variables) (compiledStatement, bool) {
	cs := compiledStatement{deny: st.Effect == EffectDeny}
	actions := st.Actions
	if len(st.NotActions) > 0 {
		actions, cs.notAction = st.NotActions, true
	}
	for _, a := range actions {
		cs.actions = append(cs.actions, compileGlob(a, true))
	}
	resources := st.Resources
	if len(st.NotResources) > 0 {
		resources, cs.notResource = st.NotResources, true
	}
	for _, r := range resources {
		toks, err := lexTemplate(r, enabled)
		if err != nil {
			return cs, false // Parse rejects this; be safe with hand-made Documents
		}
		toks, ok := expand(toks, vars, true)
		if !ok {
			if cs.notResource {
				return cs, false
			}
			continue
		}
		cs.resources = append(cs.resources, newGlob(toks, false))
	}
	if !cs.notResource && len(cs.resources) == 0 {
		return cs, false
	}
	for _, c := range st.Conditions {
		cc, ok := compileCondition(c, vars, enabled)
		if !ok {
			return cs, false
		}
		if vals, present := lookupValues(vars, c.Key); present {
			if !cc.eval(vals, true) {
				return cs, false
			}
			continue
		}
		cs.conditions = append(cs.conditions, cc)
	}
	return cs, true
}

// matches reports whether the statement applies to the request.
func (cs *compiledStatement) matches(action, resource string, req Variables) bool {
	if anyMatch(cs.actions, action) == cs.notAction {
		return false
	}
	if anyMatch(cs.resources, resource) == cs.notResource {
		return false
	}
	for i := range cs.conditions {
		c := &cs.conditions[i]
		vals, present := lookupValues(req, c.key)
		if !c.eval(vals, present) {
			return false
		}
	}
	return true
}

func anyMatch(globs []glob, s string) bool {
	for i := range globs {
		if globs[i].match(s) {
			return true
		}
	}
	return false
}

// Decide evaluates a request: action such as "iot:Publish" (matched
// case-insensitively), resource a full ARN such as
// "arn:aws:iot:us-east-1:123456789012:topic/a/b" (matched case-sensitively),
// req the request context for conditions Compile left open (e.g.
// "iot:ConnectAttributes" on iot:Connect), or nil. Any matching Deny wins;
// otherwise any matching Allow allows; otherwise the request is implicitly
// denied [DOC iot-policies; IAM policy evaluation logic].
//
// Decisions are memoised per (action, resource) when they cannot depend
// on req: when req is nil or no condition was left open.
func (s *Set) Decide(action, resource string, req Variables) Decision {
	if s == nil || len(s.stmts) == 0 {
		return ImplicitDeny
	}
	cacheable := s.cache != nil && (req == nil || !s.dynamic)
	if cacheable {
		if d, ok := s.cache.get(action, resource); ok {
			return d
		}
	}
	d := s.decide(action, resource, req)
	if cacheable {
		s.cache.put(action, resource, d)
	}
	return d
}

func (s *Set) decide(action, resource string, req Variables) Decision {
	d := ImplicitDeny
	for i := range s.stmts {
		cs := &s.stmts[i]
		if !cs.deny && d == Allow {
			continue // already allowed; only a Deny can change that
		}
		if !cs.matches(action, resource, req) {
			continue
		}
		if cs.deny {
			return ExplicitDeny
		}
		d = Allow
	}
	return d
}

// Explanation says why a request got its decision.
type Explanation struct {
	Decision Decision
	// Allowing and Denying are the matching Allow and Deny statements, in
	// Compile's order.
	Allowing, Denying []StatementRef
}

// Explain evaluates a request like Decide, without the cache, and reports
// every matching statement, e.g. for the TestAuthorization API.
func (s *Set) Explain(action, resource string, req Variables) Explanation {
	var e Explanation
	if s == nil {
		return e
	}
	for i := range s.stmts {
		cs := &s.stmts[i]
		if !cs.matches(action, resource, req) {
			continue
		}
		if cs.deny {
			e.Denying = append(e.Denying, cs.ref)
		} else {
			e.Allowing = append(e.Allowing, cs.ref)
		}
	}
	switch {
	case len(e.Denying) > 0:
		e.Decision = ExplicitDeny
	case len(e.Allowing) > 0:
		e.Decision = Allow
	}
	return e
}
