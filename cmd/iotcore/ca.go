package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/spf13/cobra"

	"github.com/iotcore/iotcore/internal/pkitool"
	"github.com/iotcore/iotcore/internal/pkitool/awssdk"
)

func newCACommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Work with the CA certificates registered with the API",
	}
	cmd.AddCommand(newCARegisterCommand())
	return cmd
}

// apiFlags are how client commands reach the API: as the aws CLI does.
type apiFlags struct {
	endpointURL, region, profile string
	timeout                      time.Duration
}

func (f *apiFlags) declare(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.endpointURL, "endpoint-url", "", "API endpoint, such as http://127.0.0.1:9080 (default: AWS_ENDPOINT_URL, the profile's endpoint_url, or AWS IoT itself)")
	fs.StringVar(&f.region, "region", "", "region to sign for (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's)")
	fs.StringVar(&f.profile, "profile", "", "shared config and credentials profile (default: AWS_PROFILE, or default)")
	fs.DurationVar(&f.timeout, "timeout", time.Minute, "give up on the API after this long")
}

// client loads the AWS SDK configuration the way the aws CLI does
// (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, AWS_PROFILE, AWS_REGION,
// AWS_ENDPOINT_URL...) and returns an IoT client for the flags.
func (f *apiFlags) client(ctx context.Context) (*iot.Client, error) {
	var opts []func(*config.LoadOptions) error
	if f.region != "" {
		opts = append(opts, config.WithRegion(f.region))
	}
	if f.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(f.profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no region: pass --region or set AWS_REGION (iotcore accepts any region; its ARNs carry its own --region)")
	}
	return iot.NewFromConfig(cfg, func(o *iot.Options) {
		if f.endpointURL != "" {
			o.BaseEndpoint = aws.String(f.endpointURL)
		}
	}), nil
}

func newCARegisterCommand() *cobra.Command {
	var (
		api                   apiFlags
		req                   pkitool.RegisterCARequest
		templateFile, roleARN string
		templateName          string
		jitr                  bool
	)
	cmd := &cobra.Command{
		Use:   "register",
		Short: "Register a CA for just-in-time provisioning or registration, in one step",
		Long: `Register a CA certificate with the AWS IoT API, as AWS's JITP walkthrough ("How
can I use JITP with AWS IoT Core?") does by hand: get the registration code,
issue the verification certificate with the CA's key, and register the CA as
ACTIVE with auto-registration enabled and a JITP template
(--template-file or --template-name), or none for just-in-time registration
(--jitr). The verification certificate is not kept.

--template-file takes either a registration config, as the walkthrough's
jitp_template.json and the aws CLI's --registration-config ({"templateBody":
"...", "roleArn": "..."}), or the template itself ({"Parameters": ...,
"Resources": ...}); --role-arn sets or replaces the role.

The API is reached with the aws CLI's credentials and settings: the shared
credentials and config files (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE,
AWS_PROFILE or --profile), the region (AWS_REGION or --region) and the endpoint
(--endpoint-url or AWS_ENDPOINT_URL). For iotcore, use the credentials file in
its data directory. Prints the CA's certificateId and certificateArn as JSON.`,
		Example: `  export AWS_SHARED_CREDENTIALS_FILE=iotcore-data/credentials
  iotcore ca register --endpoint-url http://127.0.0.1:9080 --region us-east-2 \
    --ca-cert deviceRootCA.pem --ca-key deviceRootCA.key --template-file examples/jitp_template.json

  iotcore ca register --endpoint-url http://127.0.0.1:9080 --region us-east-1 --ca-cert ca.pem --ca-key ca.key --jitr`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n := 0
			for _, set := range []bool{templateFile != "", templateName != "", jitr} {
				if set {
					n++
				}
			}
			if n != 1 {
				return errors.New("give one of --template-file or --template-name (just-in-time provisioning), or --jitr (just-in-time registration)")
			}
			switch {
			case templateFile != "":
				data, err := os.ReadFile(templateFile)
				if err != nil {
					return err
				}
				if req.Config, err = pkitool.ParseTemplateFile(data); err != nil {
					return fmt.Errorf("%s: %w", templateFile, err)
				}
			case templateName != "":
				req.Config.TemplateName = templateName
			}
			if roleARN != "" {
				if jitr {
					return errors.New("--role-arn is for a JITP template; --jitr registers none")
				}
				req.Config.RoleARN = roleARN
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), api.timeout)
			defer cancel()
			client, err := api.client(ctx)
			if err != nil {
				return err
			}
			// The aws commands an error suggests reach this API.
			req.Region, req.EndpointURL = client.Options().Region, aws.ToString(client.Options().BaseEndpoint)
			stderr := cmd.ErrOrStderr()
			req.Progress = func(step string) { fmt.Fprintln(stderr, "iotcore ca register:", step) }
			res, err := pkitool.RegisterCA(ctx, awssdk.Registrar{Client: client}, req)
			if err != nil {
				return err
			}
			for _, n := range res.Notes {
				fmt.Fprintln(stderr, "iotcore ca register: note:", n)
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "    ")
			return enc.Encode(map[string]string{"certificateId": res.ID, "certificateArn": res.ARN})
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&req.CACertPath, "ca-cert", "", "CA certificate to register (required)")
	fs.StringVar(&req.CAKeyPath, "ca-key", "", "the CA's private key, to sign the verification certificate (required)")
	fs.StringVar(&templateFile, "template-file", "", "JITP template: a registration config (jitp_template.json of AWS's JITP walkthrough) or a template body")
	fs.StringVar(&templateName, "template-name", "", "JITP: the name of a provisioning template (aws iot create-provisioning-template)")
	fs.StringVar(&roleARN, "role-arn", "", "role AWS IoT assumes to provision (AWS needs one; iotcore does not)")
	fs.BoolVar(&jitr, "jitr", false, "register for just-in-time registration: no template")
	api.declare(cmd)
	for _, f := range []string{"ca-cert", "ca-key"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}
