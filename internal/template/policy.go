package template

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
)

// Policy is a rendered AWS::IoT::Policy resource: exactly one of
// PolicyName (an existing policy to attach) and PolicyDocument (a policy
// to create, or to reuse when one with its GeneratedPolicyName exists) is
// set [DOC provision-template "Policy resources"].
type Policy struct {
	LogicalID      string `json:"LogicalID"`
	PolicyName     string `json:"PolicyName,omitempty"`
	PolicyDocument string `json:"PolicyDocument,omitempty"`
}

// GeneratedPolicyName is the name of a policy declared by PolicyDocument
// alone. AWS says the name "defaults to a hash of the policy document" and
// shows 40 upper-case hexadecimal characters; which hash, over which
// bytes, is not documented. iotcore uses the upper-case hex SHA-1 of the
// rendered document exactly as rendered (an inline JSON object is first
// written compactly, keeping its key order). Identical documents get the
// same name, so a second device provisioned from the same template reuses
// the first device's policy, as AWS does [seed 000].
func GeneratedPolicyName(document string) string {
	sum := sha1.Sum([]byte(document))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

var policyProperties = []string{"PolicyName", "PolicyDocument"}

type policyDef struct {
	id, path string
	name     expr     // PolicyName, or nil
	doc      expr     // PolicyDocument as a string, or nil
	tree     *docNode // PolicyDocument as a JSON object, or nil
}

func (p *parser) policy(id string, props *jsonValue, ppath string, over *jsonValue, opath string) (resource, error) {
	if err := checkProperties(props, ppath, TypePolicy, policyProperties); err != nil {
		return nil, err
	}
	if _, err := overrides(over, opath, TypePolicy, nil, nil); err != nil {
		return nil, err
	}
	d := &policyDef{id: id, path: ppath}
	nv, hasName := props.member("PolicyName")
	dv, hasDoc := props.member("PolicyDocument")
	switch {
	case hasName && hasDoc:
		return nil, errorf(ppath, "an %s takes PolicyName or PolicyDocument, not both", TypePolicy)
	case !hasName && !hasDoc:
		return nil, errorf(ppath, "an %s needs PolicyName (an existing policy) or PolicyDocument", TypePolicy)
	}
	var err error
	if hasName {
		npath := join(ppath, "PolicyName")
		if d.name, err = p.stringExpr(nv, npath); err != nil {
			return nil, err
		}
		if err := checkLiteral(d.name, npath, policyNameRule.check); err != nil {
			return nil, err
		}
		return d, nil
	}
	dpath := join(ppath, "PolicyDocument")
	switch {
	case dv.kind == jsonString || isIntrinsic(dv):
		if d.doc, err = p.stringExpr(dv, dpath); err != nil {
			return nil, err
		}
		if err := checkLiteral(d.doc, dpath, checkDocument); err != nil {
			return nil, err
		}
	case dv.kind == jsonObject:
		if d.tree, err = p.docNode(dv, dpath); err != nil {
			return nil, err
		}
	default:
		return nil, errorf(dpath, "must be a policy document, as a JSON string or object, got %s", dv.kind)
	}
	return d, nil
}

// checkDocument rejects an empty policy document. The document's grammar
// is the policy package's to check.
func checkDocument(s, path string) error {
	if strings.TrimSpace(s) == "" {
		return errorf(path, "the policy document is empty")
	}
	return nil
}

func (d *policyDef) render(r *renderer, out *Resources) error {
	pol := Policy{LogicalID: d.id}
	var err error
	switch {
	case d.name != nil:
		if pol.PolicyName, err = r.checked(d.name, join(d.path, "PolicyName"), policyNameRule); err != nil {
			return err
		}
	case d.doc != nil:
		if pol.PolicyDocument, err = r.str(d.doc); err != nil {
			return err
		}
		if err := checkDocument(pol.PolicyDocument, join(d.path, "PolicyDocument")); err != nil {
			return err
		}
	default:
		b, err := d.tree.render(r, nil)
		if err != nil {
			return err
		}
		if len(b) > maxValueLen {
			return errorf(join(d.path, "PolicyDocument"), "the policy document would be more than %d bytes", maxValueLen)
		}
		pol.PolicyDocument = string(b)
	}
	out.Policies = append(out.Policies, pol)
	return nil
}
