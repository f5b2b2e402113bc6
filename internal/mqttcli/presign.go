package mqttcli

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SigningName is the SigV4 service of MQTT over WebSocket on AWS IoT Core.
const SigningName = "iotdevicegateway"

// emptySHA256 is the payload hash of the upgrade request, which has no body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// PresignURL returns wss://<endpoint>/mqtt presigned with creds for region at
// now, as AWS's device SDKs presign it: the host header signed, the payload
// hash of an empty body, and X-Amz-Security-Token, for temporary
// credentials, appended after signing.
func PresignURL(ctx context.Context, creds aws.Credentials, endpoint, region string, now time.Time) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+endpoint+"/mqtt", nil)
	if err != nil {
		return "", fmt.Errorf("presign websocket url: %w", err)
	}
	token := creds.SessionToken
	creds.SessionToken = ""
	signed, _, err := v4.NewSigner().PresignHTTP(ctx, creds, req, emptySHA256, SigningName, region, now)
	if err != nil {
		return "", fmt.Errorf("presign websocket url: %w", err)
	}
	u, err := url.Parse(signed)
	if err != nil {
		return "", fmt.Errorf("presign websocket url: %w", err)
	}
	u.Scheme = "wss"
	if token != "" {
		u.RawQuery += "&X-Amz-Security-Token=" + url.QueryEscape(token)
	}
	return u.String(), nil
}
