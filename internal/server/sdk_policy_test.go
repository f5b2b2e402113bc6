package server_test

import (
	"context"
	"crypto/x509/pkix"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
)

const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

func pkixName(cn string) pkix.Name { return pkix.Name{CommonName: cn} }

func TestPolicyVersions(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	name := aws.String("DevicePolicy")
	doc1 := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"]}]}`
	cp := must[*iot.CreatePolicyOutput](t)(ts.client.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: name, PolicyDocument: aws.String(doc1)}))
	if *cp.PolicyVersionId != "1" || *cp.PolicyArn != "arn:aws:iot:us-east-1:123456789012:policy/DevicePolicy" || *cp.PolicyDocument != doc1 {
		t.Fatalf("CreatePolicy = %+v", cp)
	}
	_, err := ts.client.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: name, PolicyDocument: aws.String(doc1)})
	wantAPIError(t, err, "ResourceAlreadyExistsException")

	for v := 2; v <= 5; v++ {
		must[*iot.CreatePolicyVersionOutput](t)(ts.client.CreatePolicyVersion(ctx, &iot.CreatePolicyVersionInput{PolicyName: name, PolicyDocument: aws.String(allowAll), SetAsDefault: v == 3}))
	}
	_, err = ts.client.CreatePolicyVersion(ctx, &iot.CreatePolicyVersionInput{PolicyName: name, PolicyDocument: aws.String(allowAll)})
	wantAPIError(t, err, "VersionsLimitExceededException")

	gp := must[*iot.GetPolicyOutput](t)(ts.client.GetPolicy(ctx, &iot.GetPolicyInput{PolicyName: name}))
	if *gp.DefaultVersionId != "3" || *gp.PolicyDocument != allowAll || gp.CreationDate == nil {
		t.Fatalf("GetPolicy = %+v", gp)
	}
	lv := must[*iot.ListPolicyVersionsOutput](t)(ts.client.ListPolicyVersions(ctx, &iot.ListPolicyVersionsInput{PolicyName: name}))
	if len(lv.PolicyVersions) != 5 {
		t.Fatalf("ListPolicyVersions has %d versions, want 5", len(lv.PolicyVersions))
	}
	_, err = ts.client.DeletePolicyVersion(ctx, &iot.DeletePolicyVersionInput{PolicyName: name, PolicyVersionId: aws.String("3")})
	wantAPIError(t, err, "DeleteConflictException")
	must[*iot.SetDefaultPolicyVersionOutput](t)(ts.client.SetDefaultPolicyVersion(ctx, &iot.SetDefaultPolicyVersionInput{PolicyName: name, PolicyVersionId: aws.String("1")}))
	gv := must[*iot.GetPolicyVersionOutput](t)(ts.client.GetPolicyVersion(ctx, &iot.GetPolicyVersionInput{PolicyName: name, PolicyVersionId: aws.String("1")}))
	if !gv.IsDefaultVersion || *gv.PolicyDocument != doc1 {
		t.Fatalf("GetPolicyVersion 1 = %+v", gv)
	}
	_, err = ts.client.GetPolicyVersion(ctx, &iot.GetPolicyVersionInput{PolicyName: name, PolicyVersionId: aws.String("9")})
	wantAPIError(t, err, "ResourceNotFoundException")

	// Version ids are never reused after deletion.
	must[*iot.DeletePolicyVersionOutput](t)(ts.client.DeletePolicyVersion(ctx, &iot.DeletePolicyVersionInput{PolicyName: name, PolicyVersionId: aws.String("5")}))
	nv := must[*iot.CreatePolicyVersionOutput](t)(ts.client.CreatePolicyVersion(ctx, &iot.CreatePolicyVersionInput{PolicyName: name, PolicyDocument: aws.String(allowAll)}))
	if *nv.PolicyVersionId != "6" || nv.IsDefaultVersion {
		t.Fatalf("new version = %s (default %v), want 6, not default", *nv.PolicyVersionId, nv.IsDefaultVersion)
	}

	// DeletePolicy needs the other versions gone.
	_, err = ts.client.DeletePolicy(ctx, &iot.DeletePolicyInput{PolicyName: name})
	wantAPIError(t, err, "DeleteConflictException")
	for _, v := range []string{"2", "3", "4", "6"} {
		must[*iot.DeletePolicyVersionOutput](t)(ts.client.DeletePolicyVersion(ctx, &iot.DeletePolicyVersionInput{PolicyName: name, PolicyVersionId: aws.String(v)}))
	}
	must[*iot.DeletePolicyOutput](t)(ts.client.DeletePolicy(ctx, &iot.DeletePolicyInput{PolicyName: name}))
	_, err = ts.client.GetPolicy(ctx, &iot.GetPolicyInput{PolicyName: name})
	wantAPIError(t, err, "ResourceNotFoundException")
}

func TestMalformedPolicies(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	for _, tc := range []struct{ name, doc, code, mention string }{
		{"not JSON", `{"Version":`, "MalformedPolicyException", ""},
		{"bad effect", `{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"iot:*","Resource":"*"}]}`, "MalformedPolicyException", "Effect"},
		{"no statement", `{"Version":"2012-10-17"}`, "MalformedPolicyException", "Statement"},
		{"too large", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/` + strings.Repeat("a", 2100) + `"}]}`, "MalformedPolicyException", "2048"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ts.client.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(tc.doc)})
			msg := wantAPIError(t, err, tc.code)
			if !strings.Contains(msg, tc.mention) {
				t.Errorf("message %q does not mention %q", msg, tc.mention)
			}
		})
	}
	_, err := ts.client.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("bad name!"), PolicyDocument: aws.String(allowAll)})
	wantAPIError(t, err, "InvalidRequestException")
	list := must[*iot.ListPoliciesOutput](t)(ts.client.ListPolicies(ctx, &iot.ListPoliciesInput{}))
	if len(list.Policies) != 0 {
		t.Fatalf("rejected documents left %d policies", len(list.Policies))
	}
}

func TestPolicyAttachments(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	kc := must[*iot.CreateKeysAndCertificateOutput](t)(ts.client.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{}))
	arn := kc.CertificateArn
	for i := range 10 {
		n := aws.String("p" + string(rune('a'+i)))
		must[*iot.CreatePolicyOutput](t)(ts.client.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: n, PolicyDocument: aws.String(allowAll)}))
		must[*iot.AttachPolicyOutput](t)(ts.client.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: n, Target: arn}))
	}
	must[*iot.CreatePolicyOutput](t)(ts.client.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("eleventh"), PolicyDocument: aws.String(allowAll)}))
	_, err := ts.client.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("eleventh"), Target: arn})
	wantAPIError(t, err, "LimitExceededException")
	_, err = ts.client.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("missing"), Target: arn})
	wantAPIError(t, err, "ResourceNotFoundException")
	_, err = ts.client.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("pa"), Target: aws.String("arn:aws:iot:us-east-1:123456789012:cert/" + strings.Repeat("a", 64))})
	wantAPIError(t, err, "ResourceNotFoundException")

	// ListAttachedPolicies is a POST with the ARN as an encoded path label; page through it.
	var names []string
	p := iot.NewListAttachedPoliciesPaginator(ts.client, &iot.ListAttachedPoliciesInput{Target: arn, PageSize: aws.Int32(3)})
	for p.HasMorePages() {
		for _, pol := range must[*iot.ListAttachedPoliciesOutput](t)(p.NextPage(ctx)).Policies {
			names = append(names, *pol.PolicyName)
		}
	}
	if len(names) != 10 || names[0] != "pa" || names[9] != "pj" {
		t.Fatalf("ListAttachedPolicies = %v", names)
	}
	targets := must[*iot.ListTargetsForPolicyOutput](t)(ts.client.ListTargetsForPolicy(ctx, &iot.ListTargetsForPolicyInput{PolicyName: aws.String("pa")}))
	if len(targets.Targets) != 1 || targets.Targets[0] != *arn {
		t.Fatalf("ListTargetsForPolicy = %v", targets.Targets)
	}
	_, err = ts.client.DeletePolicy(ctx, &iot.DeletePolicyInput{PolicyName: aws.String("pa")})
	wantAPIError(t, err, "DeleteConflictException")
	must[*iot.DetachPolicyOutput](t)(ts.client.DetachPolicy(ctx, &iot.DetachPolicyInput{PolicyName: aws.String("pa"), Target: arn}))
	must[*iot.DeletePolicyOutput](t)(ts.client.DeletePolicy(ctx, &iot.DeletePolicyInput{PolicyName: aws.String("pa")}))

	// The deprecated principal-policy operations see the same attachments.
	pp := must[*iot.ListPrincipalPoliciesOutput](t)(ts.client.ListPrincipalPolicies(ctx, &iot.ListPrincipalPoliciesInput{Principal: arn}))
	if len(pp.Policies) != 9 {
		t.Fatalf("ListPrincipalPolicies has %d policies, want 9", len(pp.Policies))
	}
	must[*iot.DetachPrincipalPolicyOutput](t)(ts.client.DetachPrincipalPolicy(ctx, &iot.DetachPrincipalPolicyInput{PolicyName: aws.String("pb"), Principal: arn}))
	must[*iot.AttachPrincipalPolicyOutput](t)(ts.client.AttachPrincipalPolicy(ctx, &iot.AttachPrincipalPolicyInput{PolicyName: aws.String("eleventh"), Principal: arn}))
	pr := must[*iot.ListPolicyPrincipalsOutput](t)(ts.client.ListPolicyPrincipals(ctx, &iot.ListPolicyPrincipalsInput{PolicyName: aws.String("eleventh")}))
	if len(pr.Principals) != 1 || pr.Principals[0] != *arn {
		t.Fatalf("ListPolicyPrincipals = %v", pr.Principals)
	}

	// Thing groups take at most two policies; recursive listing includes the parent's.
	must[*iot.CreateThingGroupOutput](t)(ts.client.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String("parent")}))
	child := must[*iot.CreateThingGroupOutput](t)(ts.client.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String("child"), ParentGroupName: aws.String("parent")}))
	parentARN := aws.String("arn:aws:iot:us-east-1:123456789012:thinggroup/parent")
	must[*iot.AttachPolicyOutput](t)(ts.client.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("pc"), Target: parentARN}))
	must[*iot.AttachPolicyOutput](t)(ts.client.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("pd"), Target: child.ThingGroupArn}))
	must[*iot.AttachPolicyOutput](t)(ts.client.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("pe"), Target: child.ThingGroupArn}))
	_, err = ts.client.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("pf"), Target: child.ThingGroupArn})
	wantAPIError(t, err, "LimitExceededException")
	rec := must[*iot.ListAttachedPoliciesOutput](t)(ts.client.ListAttachedPolicies(ctx, &iot.ListAttachedPoliciesInput{Target: child.ThingGroupArn, Recursive: true}))
	if len(rec.Policies) != 3 {
		t.Fatalf("recursive ListAttachedPolicies = %d policies, want 3", len(rec.Policies))
	}
}
