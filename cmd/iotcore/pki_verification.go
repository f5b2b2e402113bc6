package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/iotcore/iotcore/internal/pkitool"
)

func newPKIVerificationCommand() *cobra.Command {
	var (
		req   pkitool.VerificationRequest
		nDays int
	)
	cmd := &cobra.Command{
		Use:   "verification-cert",
		Short: "Issue the verification certificate for a registration code",
		Long: `Issue the certificate that proves to register-ca-certificate that you hold the
CA's key: its CN is the registration code, and the CA signs it. Its own key is
not kept; nobody needs it. (iotcore ca register does all of this for you.)`,
		Example: `  export AWS_SHARED_CREDENTIALS_FILE=iotcore-data/credentials
  CODE=$(aws --region us-east-2 --endpoint-url http://127.0.0.1:9080 iot get-registration-code \
    --query registrationCode --output text)
  iotcore pki verification-cert --ca ca.pem --ca-key ca.key --code "$CODE"
  aws --region us-east-2 --endpoint-url http://127.0.0.1:9080 iot register-ca-certificate \
    --ca-certificate file://ca.pem --verification-cert file://verification.crt \
    --set-as-active --allow-auto-registration --registration-config file://examples/jitp_template.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req.Validity = days(nDays)
			res, err := pkitool.IssueVerificationCert(req)
			if err != nil {
				return pkiError(err)
			}
			printWritten(cmd.OutOrStdout(), res.Files, nil)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&req.CACertPath, "ca", "", "CA certificate (required)")
	fs.StringVar(&req.CAKeyPath, "ca-key", "", "the CA's private key (required)")
	fs.StringVar(&req.RegistrationCode, "code", "", "registration code, from aws iot get-registration-code (required)")
	fs.IntVar(&nDays, "days", 0, fmt.Sprintf("validity in days (default %d)", int(pkitool.DefaultVerificationValidity.Hours()/24)))
	outputFlags(fs, &req.Output, "verification", "NAME.crt")
	for _, f := range []string{"ca", "ca-key", "code"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}
