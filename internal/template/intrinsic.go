package template

import (
	"slices"
	"strconv"
	"strings"
)

// functions are the intrinsic functions a template may use
// [DOC provision-template "Intrinsic functions"]. Any other "Fn::" key, and
// any other key where a function may stand, is a Parse error: the list is
// an allow-list, not a prefix match.
var functions = []string{"Ref", "Fn::Join", "Fn::Sub", "Fn::Select", "Fn::Split", "Fn::FindInMap"}

const functionList = "Ref, Fn::Join, Fn::Sub, Fn::Select, Fn::Split or Fn::FindInMap"

// maxValueLen bounds every string Fn::Join and Fn::Sub build while
// rendering (and an inline policy document), so that nested functions
// cannot multiply a template into gigabytes. No value AWS stores from a
// template comes near it.
const maxValueLen = 32 << 10

// valueKind is the type of value an expression gives, known when parsing.
type valueKind uint8

const (
	kindString valueKind = iota
	kindList
	kindAny // Fn::FindInMap with computed keys: known only when rendered
)

// result is an evaluated expression: a string or a list of strings.
type result struct {
	str    string
	list   []string
	isList bool
}

// expr is a property value: a literal string or an intrinsic function.
type expr interface {
	kind() valueKind
	eval(r *renderer) (result, error)
	// what names the expression in messages, e.g. "Fn::Split".
	what() string
	// at is where the expression is in the template ("" for literals).
	at() string
}

// isFunctionKey reports whether an object key names an intrinsic function.
func isFunctionKey(k string) bool { return k == "Ref" || strings.HasPrefix(k, "Fn::") }

// isIntrinsic reports whether v is an object whose only key names a function.
func isIntrinsic(v *jsonValue) bool {
	return v.kind == jsonObject && len(v.keys) == 1 && isFunctionKey(v.keys[0])
}

// expr parses a value that may be a literal string or an intrinsic function.
func (p *parser) expr(v *jsonValue, path string) (expr, error) {
	switch v.kind {
	case jsonString:
		return literal(v.str), nil
	case jsonObject:
		for _, k := range v.keys {
			if isFunctionKey(k) && len(v.keys) > 1 {
				return nil, errorf(path, "an intrinsic function is an object with exactly one key, but this one has %s: %s", plural(len(v.keys), "key"), listWords(quoteAll(v.keys)))
			}
		}
		if len(v.keys) == 1 {
			k := v.keys[0]
			if isFunctionKey(k) {
				return p.function(k, v.vals[0], path)
			}
			if hint := didYouMean(k, functions); hint != "" {
				return nil, errorf(path, "unknown function %q%s", k, hint)
			}
			return nil, errorf(path, "must be a string or an intrinsic function (%s), got an object with key %q", functionList, k)
		}
		return nil, errorf(path, "must be a string or an intrinsic function (%s), got an object", functionList)
	}
	return nil, errorf(path, "must be a string or an intrinsic function, got %s", v.kind)
}

// stringExpr parses a value that must give a string.
func (p *parser) stringExpr(v *jsonValue, path string) (expr, error) {
	e, err := p.expr(v, path)
	if err != nil {
		return nil, err
	}
	if e.kind() == kindList {
		return nil, errorf(path, "%s gives a list, but a string is required here", e.what())
	}
	return e, nil
}

// listExpr parses a value that must give a list: a JSON list of strings
// and functions giving strings, or a function giving a list.
func (p *parser) listExpr(v *jsonValue, path string) (expr, error) {
	if v.kind == jsonArray {
		l := &listLiteral{elems: make([]expr, len(v.elems))}
		for i, ev := range v.elems {
			e, err := p.stringExpr(ev, index(path, i))
			if err != nil {
				return nil, err
			}
			l.elems[i] = e
		}
		return l, nil
	}
	if v.kind != jsonObject {
		return nil, errorf(path, "must be a list, got %s", v.kind)
	}
	e, err := p.expr(v, path)
	if err != nil {
		return nil, err
	}
	if e.kind() == kindString {
		return nil, errorf(path, "must be a list, or a function that gives one (Fn::Split, Fn::FindInMap, or Ref to a List<String> or CommaDelimitedList parameter); %s gives a string", e.what())
	}
	return e, nil
}

// args checks that a function's argument is a list of n values.
func args(v *jsonValue, fpath string, n int, form string) ([]*jsonValue, error) {
	if v.kind != jsonArray {
		return nil, errorf(fpath, "takes a list %s, got %s", form, v.kind)
	}
	if len(v.elems) != n {
		return nil, errorf(fpath, "takes a list of %d values %s, got %d", n, form, len(v.elems))
	}
	return v.elems, nil
}

// function parses the intrinsic function name applied to arg, found at path.
func (p *parser) function(name string, arg *jsonValue, path string) (expr, error) {
	fpath := join(path, name)
	switch name {
	case "Ref":
		if arg.kind != jsonString {
			return nil, errorf(fpath, "takes the name of a parameter, got %s", arg.kind)
		}
		prm, err := p.param(arg.str, path, "Ref to")
		if err != nil {
			return nil, err
		}
		return &refExpr{path: path, param: prm}, nil

	case "Fn::Join":
		a, err := args(arg, fpath, 2, "[delimiter, [values]]")
		if err != nil {
			return nil, err
		}
		delim, err := p.stringExpr(a[0], index(fpath, 0))
		if err != nil {
			return nil, err
		}
		list, err := p.listExpr(a[1], index(fpath, 1))
		if err != nil {
			return nil, err
		}
		return &joinExpr{path: path, delim: delim, list: list}, nil

	case "Fn::Sub":
		return p.sub(arg, path, fpath)

	case "Fn::Select":
		a, err := args(arg, fpath, 2, "[index, [values]]")
		if err != nil {
			return nil, err
		}
		var idx expr
		switch a[0].kind {
		case jsonNumber, jsonString:
			if _, ok := selectIndex(a[0].str); !ok {
				return nil, errorf(index(fpath, 0), "the index must be a whole number from 0, got %s", quote(a[0].str))
			}
			idx = literal(a[0].str)
		default:
			if idx, err = p.stringExpr(a[0], index(fpath, 0)); err != nil {
				return nil, err
			}
		}
		list, err := p.listExpr(a[1], index(fpath, 1))
		if err != nil {
			return nil, err
		}
		return &selectExpr{path: path, index: idx, list: list}, nil

	case "Fn::Split":
		a, err := args(arg, fpath, 2, "[delimiter, string]")
		if err != nil {
			return nil, err
		}
		delim, err := p.stringExpr(a[0], index(fpath, 0))
		if err != nil {
			return nil, err
		}
		if l, ok := delim.(literal); ok && l == "" {
			return nil, errorf(index(fpath, 0), "the delimiter must not be empty")
		}
		src, err := p.stringExpr(a[1], index(fpath, 1))
		if err != nil {
			return nil, err
		}
		return &splitExpr{path: path, delim: delim, src: src}, nil

	case "Fn::FindInMap":
		a, err := args(arg, fpath, 3, "[MapName, TopLevelKey, SecondLevelKey]")
		if err != nil {
			return nil, err
		}
		f := &findInMapExpr{path: path, k: kindAny}
		for i, dst := range []*expr{&f.mapName, &f.top, &f.second} {
			if *dst, err = p.stringExpr(a[i], index(fpath, i)); err != nil {
				return nil, err
			}
		}
		if p.t.mappings == nil {
			return nil, errorf(fpath, "the template has no Mappings section")
		}
		if m, ok := f.mapName.(literal); ok {
			if _, ok := p.t.mappings[string(m)]; !ok {
				return nil, errorf(index(fpath, 0), "there is no mapping %s%s", quote(string(m)), didYouMean(string(m), mappingNames(p.t.mappings)))
			}
		}
		top, ok1 := f.top.(literal)
		second, ok2 := f.second.(literal)
		if m, ok := f.mapName.(literal); ok && ok1 && ok2 {
			v, why := p.t.lookup(string(m), string(top), string(second))
			if why != "" {
				return nil, errorf(fpath, "%s", why)
			}
			f.k = kindString
			if v.isList {
				f.k = kindList
			}
		}
		return f, nil
	}
	return nil, errorf(path, "unsupported function %q%s; the functions are %s", name, didYouMean(name, functions), functionList)
}

func mappingNames(m map[string]mapping) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// selectIndex parses an Fn::Select index.
func selectIndex(s string) (int, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// literal is a string written in the template.
type literal string

func (literal) kind() valueKind                  { return kindString }
func (l literal) eval(*renderer) (result, error) { return result{str: string(l)}, nil }
func (literal) what() string                     { return "a string" }
func (literal) at() string                       { return "" }

// listLiteral is a JSON list whose items are strings or functions.
type listLiteral struct{ elems []expr }

func (*listLiteral) kind() valueKind { return kindList }
func (*listLiteral) what() string    { return "a list" }
func (*listLiteral) at() string      { return "" }
func (l *listLiteral) eval(r *renderer) (result, error) {
	out := make([]string, len(l.elems))
	for i, e := range l.elems {
		s, err := r.str(e)
		if err != nil {
			return result{}, err
		}
		out[i] = s
	}
	return result{list: out, isList: true}, nil
}

// refExpr is {"Ref": "parameter"}.
type refExpr struct {
	path  string
	param *Parameter
}

func (e *refExpr) kind() valueKind {
	if e.param.isList() {
		return kindList
	}
	return kindString
}
func (e *refExpr) what() string {
	if e.param.isList() {
		return "Ref to list parameter " + quote(e.param.Name)
	}
	return "Ref to " + quote(e.param.Name)
}
func (e *refExpr) at() string                       { return e.path }
func (e *refExpr) eval(r *renderer) (result, error) { return r.value(e.param, e.path) }

// joinExpr is {"Fn::Join": [delimiter, [values]]}.
type joinExpr struct {
	path        string
	delim, list expr
}

func (*joinExpr) kind() valueKind { return kindString }
func (*joinExpr) what() string    { return "Fn::Join" }
func (e *joinExpr) at() string    { return e.path }
func (e *joinExpr) eval(r *renderer) (result, error) {
	delim, err := r.str(e.delim)
	if err != nil {
		return result{}, err
	}
	list, err := r.list(e.list)
	if err != nil {
		return result{}, err
	}
	n := len(delim) * max(len(list)-1, 0)
	for _, s := range list {
		n += len(s)
	}
	if n > maxValueLen {
		return result{}, errorf(e.path, "Fn::Join would make a value of %d bytes; the limit is %d", n, maxValueLen)
	}
	return result{str: strings.Join(list, delim)}, nil
}

// selectExpr is {"Fn::Select": [index, [values]]}.
type selectExpr struct {
	path        string
	index, list expr
}

func (*selectExpr) kind() valueKind { return kindString }
func (*selectExpr) what() string    { return "Fn::Select" }
func (e *selectExpr) at() string    { return e.path }
func (e *selectExpr) eval(r *renderer) (result, error) {
	is, err := r.str(e.index)
	if err != nil {
		return result{}, err
	}
	i, ok := selectIndex(is)
	if !ok {
		return result{}, errorf(e.path, "Fn::Select index %s is not a whole number from 0", quote(is))
	}
	list, err := r.list(e.list)
	if err != nil {
		return result{}, err
	}
	if i >= len(list) {
		return result{}, errorf(e.path, "Fn::Select index %d is out of range: the list has %s", i, plural(len(list), "value"))
	}
	return result{str: list[i]}, nil
}

// splitExpr is {"Fn::Split": [delimiter, string]}.
type splitExpr struct {
	path       string
	delim, src expr
}

func (*splitExpr) kind() valueKind { return kindList }
func (*splitExpr) what() string    { return "Fn::Split" }
func (e *splitExpr) at() string    { return e.path }
func (e *splitExpr) eval(r *renderer) (result, error) {
	delim, err := r.str(e.delim)
	if err != nil {
		return result{}, err
	}
	if delim == "" {
		return result{}, errorf(e.path, "the Fn::Split delimiter is empty")
	}
	src, err := r.str(e.src)
	if err != nil {
		return result{}, err
	}
	return result{list: strings.Split(src, delim), isList: true}, nil
}

// findInMapExpr is {"Fn::FindInMap": [MapName, TopLevelKey, SecondLevelKey]}.
type findInMapExpr struct {
	path                 string
	mapName, top, second expr
	k                    valueKind
}

func (e *findInMapExpr) kind() valueKind { return e.k }
func (*findInMapExpr) what() string      { return "Fn::FindInMap" }
func (e *findInMapExpr) at() string      { return e.path }
func (e *findInMapExpr) eval(r *renderer) (result, error) {
	var keys [3]string
	for i, k := range []expr{e.mapName, e.top, e.second} {
		s, err := r.str(k)
		if err != nil {
			return result{}, err
		}
		keys[i] = s
	}
	v, why := r.t.lookup(keys[0], keys[1], keys[2])
	if why != "" {
		return result{}, errorf(e.path, "Fn::FindInMap: %s", why)
	}
	v.list = slices.Clone(v.list) // the caller may change what Render returns
	return v, nil
}

// looksLikeFunction reports whether an object is, or was probably meant to
// be, an intrinsic function: it has a function key, or its only key is a
// near miss of one ("ref", "Fn::join").
func looksLikeFunction(v *jsonValue) bool {
	for _, k := range v.keys {
		if isFunctionKey(k) {
			return true
		}
	}
	return len(v.keys) == 1 && didYouMean(v.keys[0], functions) != ""
}

// plural writes "1 value", "2 values".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// quoteAll quotes each name.
func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = quote(n)
	}
	return out
}
