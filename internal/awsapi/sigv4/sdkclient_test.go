package sigv4_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/smithy-go"

	"github.com/iotcore/iotcore/internal/awsapi/sigv4"
)

// TestVerifySDKClient calls the verifier through aws-sdk-go-v2's IoT client,
// the conformance client of the API, with only BaseEndpoint changed.
func TestVerifySDKClient(t *testing.T) {
	srv := newVerifyServer(t, newVerifier(nil))
	client := func(region, secret string) *iot.Client {
		return iot.New(iot.Options{
			Region:       region,
			BaseEndpoint: aws.String(srv.URL),
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: secret}, nil
			}),
			RetryMaxAttempts: 1,
		})
	}
	ctx := context.Background()
	tests := []struct {
		name     string
		call     func(c *iot.Client) error
		secret   string
		wantCode string
	}{
		{name: "ListAttachedPolicies", call: func(c *iot.Client) error {
			_, err := c.ListAttachedPolicies(ctx, &iot.ListAttachedPoliciesInput{
				Target: aws.String("arn:aws:iot:us-east-1:123456789012:cert/abc"), Recursive: true})
			return err
		}},
		{name: "DescribeEndpoint", call: func(c *iot.Client) error {
			_, err := c.DescribeEndpoint(ctx, &iot.DescribeEndpointInput{EndpointType: aws.String("iot:Data-ATS")})
			return err
		}},
		{name: "CreateThing", call: func(c *iot.Client) error {
			_, err := c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("t1")})
			return err
		}},
		{name: "wrong secret", secret: "wrong", wantCode: sigv4.InvalidSignature, call: func(c *iot.Client) error {
			_, err := c.ListThings(ctx, &iot.ListThingsInput{})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(client("us-east-2", or(tt.secret, testSecret)))
			var api smithy.APIError
			switch {
			case tt.wantCode == "" && err != nil:
				t.Fatalf("call: %v", err)
			case tt.wantCode != "" && (!errors.As(err, &api) || api.ErrorCode() != tt.wantCode):
				t.Fatalf("call: %v, want %s", err, tt.wantCode)
			}
		})
	}
	var arn bool
	for _, v := range srv.requests() {
		arn = arn || strings.HasPrefix(v.RequestURI, arnPath)
	}
	if !arn {
		t.Errorf("no request reached %s with its label encoded", arnPath)
	}
}
