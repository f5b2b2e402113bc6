package template

// PolicyDocuments renders the template's policy documents alone, before any
// device brings parameter values, for the checks made when a template is
// saved (a policy naming another region or account than the server's, for
// one). A parameter with a Default takes it, as JITP, which supplies no
// other, does; any other parameter stands for "*" (a Number for 0), which a
// policy reads as "any value", so that a check finds only what every device
// would get. Policies given by PolicyName, and documents that cannot be
// rendered so, are left out.
func (t *Template) PolicyDocuments() []Policy {
	params := map[string]string{}
	for _, name := range t.refs {
		switch prm := t.params[name]; {
		case prm.HasDefault:
		case prm.Type == "Number":
			params[name] = "0"
		default:
			params[name] = "*"
		}
	}
	r := &renderer{t: t, params: params}
	var out Resources
	for _, res := range t.resources {
		if d, ok := res.(*policyDef); ok && d.name == nil {
			_ = d.render(r, &out) // a document that needs real values is not checked
		}
	}
	return out.Policies
}
