package template

// docNode is a PolicyDocument written as a JSON object rather than a
// string (AWS's fleet provisioning example does this). Intrinsic functions
// may stand for any value inside it; rendering writes the document
// compactly, keeping its key order: a function giving a string becomes a
// JSON string, one giving a list a JSON list of strings.
type docNode struct {
	raw   *jsonValue // a literal scalar
	keys  []string   // an object
	vals  []*docNode
	elems []*docNode // a list (isList)
	fn    expr       // a function
	kind  jsonKind
	path  string
}

func (p *parser) docNode(v *jsonValue, path string) (*docNode, error) {
	n := &docNode{kind: v.kind, path: path}
	switch v.kind {
	case jsonObject:
		for _, k := range v.keys {
			if isFunctionKey(k) {
				e, err := p.expr(v, path)
				if err != nil {
					return nil, err
				}
				n.fn = e
				return n, nil
			}
		}
		n.keys = v.keys
		n.vals = make([]*docNode, len(v.vals))
		for i, cv := range v.vals {
			c, err := p.docNode(cv, join(path, v.keys[i]))
			if err != nil {
				return nil, err
			}
			n.vals[i] = c
		}
	case jsonArray:
		n.elems = make([]*docNode, len(v.elems))
		for i, ev := range v.elems {
			c, err := p.docNode(ev, index(path, i))
			if err != nil {
				return nil, err
			}
			n.elems[i] = c
		}
	default:
		n.raw = v
	}
	return n, nil
}

// render appends the node's compact JSON to b.
func (n *docNode) render(r *renderer, b []byte) ([]byte, error) {
	if len(b) > maxValueLen {
		return nil, errorf(n.path, "the policy document would be more than %d bytes", maxValueLen)
	}
	switch {
	case n.fn != nil:
		v, err := n.fn.eval(r)
		if err != nil {
			return nil, err
		}
		if !v.isList {
			return appendString(b, v.str), nil
		}
		b = append(b, '[')
		for i, s := range v.list {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		return append(b, ']'), nil
	case n.kind == jsonObject:
		b = append(b, '{')
		for i, k := range n.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			var err error
			if b, err = n.vals[i].render(r, b); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case n.kind == jsonArray:
		b = append(b, '[')
		for i, e := range n.elems {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = e.render(r, b); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case n.kind == jsonString:
		return appendString(b, n.raw.str), nil
	}
	return append(b, n.raw.str...), nil
}
