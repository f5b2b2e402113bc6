package template

import "strings"

// subExpr is {"Fn::Sub": "text with ${Name}"} or
// {"Fn::Sub": ["text with ${Var}", {"Var": value}]}. As in CloudFormation,
// "${!Name}" is the literal text "${Name}" — the way to keep a policy
// variable such as ${iot:Connection.Thing.ThingName} in a substituted
// string. A variable of the second form hides a parameter of the same name.
type subExpr struct {
	path  string
	parts []subPart
	vars  map[string]expr
}

// subPart is literal text, a variable of the two-value form, or a parameter.
type subPart struct {
	text  string
	vname string
	param *Parameter
}

func (p *parser) sub(arg *jsonValue, path, fpath string) (expr, error) {
	e := &subExpr{path: path}
	text, tpath := arg, fpath
	switch {
	case arg.kind == jsonString:
	case arg.kind == jsonArray && len(arg.elems) == 2 && arg.elems[0].kind == jsonString && arg.elems[1].kind == jsonObject:
		text, tpath = arg.elems[0], index(fpath, 0)
		vars := arg.elems[1]
		if isIntrinsic(vars) {
			return nil, errorf(index(fpath, 1), "must be an object of variables, not a function")
		}
		e.vars = make(map[string]expr, len(vars.keys))
		for i, name := range vars.keys {
			v, err := p.stringExpr(vars.vals[i], join(index(fpath, 1), name))
			if err != nil {
				return nil, err
			}
			e.vars[name] = v
		}
	default:
		return nil, errorf(fpath, `takes a string, or a list of a string and an object of variables: ["text ${Var}", {"Var": value}]`)
	}
	s := text.str
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			e.parts = append(e.parts, subPart{text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "${")
		if j < 0 {
			lit.WriteString(s[i:])
			break
		}
		lit.WriteString(s[i : i+j])
		start := i + j
		k := start + 2
		if k < len(s) && s[k] == '!' {
			lit.WriteString("${")
			i = k + 1
			continue
		}
		end := strings.IndexByte(s[k:], '}')
		if end < 0 {
			return nil, errorf(tpath, `"${" at offset %d has no closing "}" (write "${!" for a literal "${")`, start)
		}
		name := s[k : k+end]
		i = k + end + 1
		if name == "" {
			return nil, errorf(tpath, `empty "${}" at offset %d`, start)
		}
		flush()
		if _, ok := e.vars[name]; ok {
			e.parts = append(e.parts, subPart{vname: name})
			continue
		}
		prm, err := p.param(name, tpath, "Fn::Sub refers to")
		if err != nil {
			return nil, err
		}
		if prm.isList() {
			return nil, errorf(tpath, "cannot substitute list parameter %s; use Fn::Join", quote(name))
		}
		e.parts = append(e.parts, subPart{param: prm})
	}
	flush()
	return e, nil
}

func (*subExpr) kind() valueKind { return kindString }
func (*subExpr) what() string    { return "Fn::Sub" }
func (e *subExpr) at() string    { return e.path }

func (e *subExpr) eval(r *renderer) (result, error) {
	vals := make([]string, len(e.parts))
	var memo map[string]string
	n := 0
	for i, part := range e.parts {
		switch {
		case part.vname != "":
			v, ok := memo[part.vname]
			if !ok {
				var err error
				if v, err = r.str(e.vars[part.vname]); err != nil {
					return result{}, err
				}
				if memo == nil {
					memo = map[string]string{}
				}
				memo[part.vname] = v
			}
			vals[i] = v
		case part.param != nil:
			v, err := r.value(part.param, e.path)
			if err != nil {
				return result{}, err
			}
			vals[i] = v.str
		default:
			vals[i] = part.text
		}
		n += len(vals[i])
		if n > maxValueLen {
			return result{}, errorf(e.path, "Fn::Sub would make a value of more than %d bytes", maxValueLen)
		}
	}
	return result{str: strings.Join(vals, "")}, nil
}
