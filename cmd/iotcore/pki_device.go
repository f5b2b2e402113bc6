package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/iotcore/iotcore/internal/pkitool"
)

func newPKIDeviceCertCommand() *cobra.Command {
	var (
		req   pkitool.DeviceCertRequest
		kt    string
		nDays int
	)
	cmd := &cobra.Command{
		Use:   "device-cert",
		Short: "Issue a device certificate, with its key and the device+CA chain",
		Long: `Issue a device (TLS client) certificate signed by a CA: for a new key (the
default), for an existing key (--key) or for a CSR the device made (--csr).

It writes NAME.crt, NAME.key (a new key only) and NAME-chain.crt: the
certificate followed by the CA file's certificates, what a device presents on
its first, just-in-time provisioning, connection (deviceCertAndCACert.crt in
AWS's JITP walkthrough). Give --ca a chain file (an intermediate's
NAME-chain.pem) to put the whole chain in it.

The subject attributes are those provisioning templates read as
AWS::IoT::Certificate::CommonName, Country, Organization, OrganizationalUnit,
StateName, SerialNumber and DistinguishedNameQualifier. Valid 365 days by
default, never past the CA.`,
		Example: `  # the walkthrough's device: device.crt, device.key, device-chain.crt
  iotcore pki device-cert --ca deviceRootCA.pem --ca-key deviceRootCA.key --cn DemoThing --c IN

  # a CSR made on the device: dev-42.crt, dev-42-chain.crt
  iotcore pki device-cert --ca ca.pem --ca-key ca.key --csr dev-42.csr --name dev-42`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if req.KeyType, err = keyType(cmd, kt); err != nil {
				return err
			}
			req.Validity = days(nDays)
			res, err := pkitool.IssueDeviceCert(req)
			if err != nil {
				return pkiError(err)
			}
			out := cmd.OutOrStdout()
			printWritten(out, res.Files, res.Notes)
			fmt.Fprintf(out, "certificate id %s, valid until %s\n", res.ID, res.Certificate.NotAfter.UTC().Format("2006-01-02"))
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&req.CACertPath, "ca", "", "CA certificate, or its chain file with the CA first (required)")
	fs.StringVar(&req.CAKeyPath, "ca-key", "", "the CA's private key (required)")
	subjectFlags(fs, &req.Subject)
	fs.StringVar(&req.CSRPath, "csr", "", "sign this certificate signing request (its subject is used)")
	fs.StringVar(&req.KeyPath, "key", "", "certify this existing private key instead of generating NAME.key")
	keyTypeFlag(fs, &kt)
	fs.IntVar(&nDays, "days", 0, "validity in days (default 365)")
	outputFlags(fs, &req.Output, "device", "NAME.crt, NAME-chain.crt and, for a new key, NAME.key")
	for _, f := range []string{"ca", "ca-key"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}
