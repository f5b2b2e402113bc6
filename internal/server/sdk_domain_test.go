package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/iotcore/iotcore/internal/pki/pkitest"
)

// TestDomainConfigurations runs a custom domain's life through the AWS SDK
// for Go v2: created, described and listed beside the default ones, its
// certificate served to devices that name it (SNI) and verifiable with the
// root CA they already trust, refused while DISABLED, deleted only once
// disabled.
func TestDomainConfigurations(t *testing.T) {
	ts := startServer(t)
	ctx := context.Background()
	created := must[*iot.CreateDomainConfigurationOutput](t)(ts.client.CreateDomainConfiguration(ctx, &iot.CreateDomainConfigurationInput{
		DomainConfigurationName: aws.String("factory"), DomainName: aws.String("mqtt.factory.example"),
		ServiceType: types.ServiceTypeData, Tags: []types.Tag{{Key: aws.String("site"), Value: aws.String("pune")}},
	}))
	if arn := aws.ToString(created.DomainConfigurationArn); len(arn) != len("arn:aws:iot:us-east-1:123456789012:domainconfiguration/factory/")+5 {
		t.Fatalf("CreateDomainConfiguration ARN = %q, want ...:domainconfiguration/factory/<5 characters>", arn)
	}
	_, err := ts.client.CreateDomainConfiguration(ctx, &iot.CreateDomainConfigurationInput{DomainConfigurationName: aws.String("factory")})
	wantAPIError(t, err, "ResourceAlreadyExistsException")
	_, err = ts.client.CreateDomainConfiguration(ctx, &iot.CreateDomainConfigurationInput{
		DomainConfigurationName: aws.String("again"), DomainName: aws.String("mqtt.factory.example")})
	wantAPIError(t, err, "InvalidRequestException")
	_, err = ts.client.CreateDomainConfiguration(ctx, &iot.CreateDomainConfigurationInput{
		DomainConfigurationName: aws.String("bad"), TlsConfig: &types.TlsConfig{SecurityPolicy: aws.String("TLS_ANYTHING")}})
	wantAPIError(t, err, "InvalidRequestException")

	d := must[*iot.DescribeDomainConfigurationOutput](t)(ts.client.DescribeDomainConfiguration(ctx, &iot.DescribeDomainConfigurationInput{
		DomainConfigurationName: aws.String("factory")}))
	if aws.ToString(d.DomainName) != "mqtt.factory.example" || d.DomainType != types.DomainTypeCustomerManaged ||
		d.DomainConfigurationStatus != types.DomainConfigurationStatusEnabled || d.ServiceType != types.ServiceTypeData ||
		aws.ToString(d.TlsConfig.SecurityPolicy) != "IoTSecurityPolicy_TLS13_1_2_2022_10" || d.LastStatusChangeDate == nil ||
		aws.ToString(d.DomainConfigurationArn) != aws.ToString(created.DomainConfigurationArn) {
		t.Fatalf("DescribeDomainConfiguration = %+v", d)
	}
	def := must[*iot.DescribeDomainConfigurationOutput](t)(ts.client.DescribeDomainConfiguration(ctx, &iot.DescribeDomainConfigurationInput{
		DomainConfigurationName: aws.String("iot:Data-ATS")}))
	endpoint := must[*iot.DescribeEndpointOutput](t)(ts.client.DescribeEndpoint(ctx, &iot.DescribeEndpointInput{EndpointType: aws.String("iot:Data-ATS")}))
	if def.DomainType != types.DomainTypeEndpoint || aws.ToString(def.DomainName) != aws.ToString(endpoint.EndpointAddress) {
		t.Fatalf("iot:Data-ATS = %+v, DescribeEndpoint = %s", def, aws.ToString(endpoint.EndpointAddress))
	}
	tags := must[*iot.ListTagsForResourceOutput](t)(ts.client.ListTagsForResource(ctx, &iot.ListTagsForResourceInput{ResourceArn: created.DomainConfigurationArn}))
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "pune" {
		t.Fatalf("tags of the domain configuration = %+v", tags.Tags)
	}

	var names []string
	p := iot.NewListDomainConfigurationsPaginator(ts.client, &iot.ListDomainConfigurationsInput{PageSize: aws.Int32(2)})
	for p.HasMorePages() {
		for _, dc := range must[*iot.ListDomainConfigurationsOutput](t)(p.NextPage(ctx)).DomainConfigurations {
			names = append(names, aws.ToString(dc.DomainConfigurationName))
		}
	}
	if want := []string{"factory", "iot:CredentialProvider", "iot:Data-ATS", "iot:Jobs"}; !slices.Equal(names, want) {
		t.Fatalf("ListDomainConfigurations = %v, want %v", names, want)
	}

	// The domain's certificate, for devices that name it.
	roots := x509.NewCertPool()
	roots.AddCert(ts.RootCA.Certificate)
	devCA := pkitest.NewRoot(t, "Device CA")
	leaf, key := pkitest.NewClient(t, devCA, pkix.Name{CommonName: "sensor"})
	dial := func(serverName string) (*x509.Certificate, error) {
		d := &net.Dialer{Timeout: 10 * time.Second}
		c, err := tls.DialWithDialer(d, "tcp", ts.MQTTAddr().String(), &tls.Config{ServerName: serverName, RootCAs: roots,
			Certificates: []tls.Certificate{{Certificate: [][]byte{leaf.Raw}, PrivateKey: key}}})
		if err != nil {
			return nil, err
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0], nil
	}
	cert, err := dial("mqtt.factory.example")
	if err != nil {
		t.Fatalf("a device naming the custom domain: %v", err)
	}
	if !slices.Equal(cert.DNSNames, []string{"mqtt.factory.example"}) {
		t.Fatalf("the custom domain's certificate names %v", cert.DNSNames)
	}
	if _, err := dial("localhost"); err != nil {
		t.Fatalf("a device naming the default endpoint: %v", err)
	}

	// Disabled: devices naming it are refused; then it may be deleted.
	_, err = ts.client.DeleteDomainConfiguration(ctx, &iot.DeleteDomainConfigurationInput{DomainConfigurationName: aws.String("factory")})
	wantAPIError(t, err, "InvalidRequestException")
	must[*iot.UpdateDomainConfigurationOutput](t)(ts.client.UpdateDomainConfiguration(ctx, &iot.UpdateDomainConfigurationInput{
		DomainConfigurationName: aws.String("factory"), DomainConfigurationStatus: types.DomainConfigurationStatusDisabled}))
	if _, err := dial("mqtt.factory.example"); err == nil {
		t.Fatal("a device naming a DISABLED custom domain completed its handshake")
	}
	must[*iot.DeleteDomainConfigurationOutput](t)(ts.client.DeleteDomainConfiguration(ctx, &iot.DeleteDomainConfigurationInput{DomainConfigurationName: aws.String("factory")}))
	_, err = ts.client.DescribeDomainConfiguration(ctx, &iot.DescribeDomainConfigurationInput{DomainConfigurationName: aws.String("factory")})
	wantAPIError(t, err, "ResourceNotFoundException")
	if _, err := dial("mqtt.factory.example"); err == nil {
		t.Fatal("the certificate of a deleted domain verified for its name")
	}
}
