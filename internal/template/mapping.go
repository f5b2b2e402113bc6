package template

// mapping is one map of the Mappings section: a two-level lookup table for
// Fn::FindInMap [DOC provision-template, fleet provisioning]. Its values
// are literal: no parameters or intrinsic functions are allowed inside.
type mapping map[string]map[string]result

func (p *parser) mappings(v *jsonValue) error {
	const path = "Mappings"
	if v.kind != jsonObject {
		return errorf(path, "must be an object of maps, got %s", v.kind)
	}
	p.t.mappings = map[string]mapping{}
	for i, name := range v.keys {
		mpath := join(path, name)
		mv := v.vals[i]
		if mv.kind != jsonObject {
			return errorf(mpath, "must be an object of top-level keys, got %s", mv.kind)
		}
		m := mapping{}
		for j, top := range mv.keys {
			tpath := join(mpath, top)
			tv := mv.vals[j]
			if tv.kind != jsonObject {
				return errorf(tpath, "must be an object of second-level keys, got %s", tv.kind)
			}
			if isIntrinsic(tv) {
				return errorf(tpath, "intrinsic functions are not allowed in Mappings")
			}
			second := map[string]result{}
			for k, key := range tv.keys {
				val, err := mappingValue(tv.vals[k], join(tpath, key))
				if err != nil {
					return err
				}
				second[key] = val
			}
			m[top] = second
		}
		p.t.mappings[name] = m
	}
	return nil
}

// mappingValue reads a value of a map: a string, a number (kept as its
// text) or a list of strings.
func mappingValue(v *jsonValue, path string) (result, error) {
	switch v.kind {
	case jsonString, jsonNumber:
		return result{str: v.str}, nil
	case jsonArray:
		list := make([]string, len(v.elems))
		for i, e := range v.elems {
			if e.kind != jsonString && e.kind != jsonNumber {
				return result{}, errorf(index(path, i), "must be a string, got %s", e.kind)
			}
			list[i] = e.str
		}
		return result{list: list, isList: true}, nil
	case jsonObject:
		if isIntrinsic(v) {
			return result{}, errorf(path, "intrinsic functions are not allowed in Mappings")
		}
	}
	return result{}, errorf(path, "must be a string or a list of strings, got %s", v.kind)
}

// lookup finds a value for Fn::FindInMap, or says what is missing.
func (t *Template) lookup(name, top, second string) (result, string) {
	if t.mappings == nil {
		return result{}, "the template has no Mappings section"
	}
	m, ok := t.mappings[name]
	if !ok {
		return result{}, "there is no mapping " + quote(name)
	}
	tm, ok := m[top]
	if !ok {
		return result{}, "mapping " + quote(name) + " has no key " + quote(top)
	}
	v, ok := tm[second]
	if !ok {
		return result{}, "mapping " + quote(name) + " has no key " + quote(second) + " under " + quote(top)
	}
	return v, ""
}
