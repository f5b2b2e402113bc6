package template

// deviceSetting is one entry of DeviceConfiguration, the flat map of
// strings fleet provisioning returns to the device in RegisterThing's
// response [DOC provision-template "Fleet provisioning"]. Values may be
// functions; nested objects are not supported, by AWS either.
type deviceSetting struct {
	key   string
	value expr
}

func (p *parser) deviceConfiguration(v *jsonValue) error {
	const path = "DeviceConfiguration"
	if v.kind != jsonObject {
		return errorf(path, "must be an object of names and string values, got %s", v.kind)
	}
	if isIntrinsic(v) {
		return errorf(path, "must be an object of names and string values; a function cannot stand for the whole section")
	}
	p.t.deviceSet = true
	for i, key := range v.keys {
		kpath := join(path, key)
		if key == "" {
			return errorf(path, "a name must not be empty")
		}
		vv := v.vals[i]
		if vv.kind == jsonArray || (vv.kind == jsonObject && !looksLikeFunction(vv)) {
			return errorf(kpath, "must be a string or an intrinsic function; nested values are not supported in DeviceConfiguration")
		}
		e, err := p.stringExpr(vv, kpath)
		if err != nil {
			return err
		}
		p.t.device = append(p.t.device, deviceSetting{key: key, value: e})
	}
	return nil
}
