package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/iotcore/iotcore/internal/pkitool"
)

func newPKICACommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Certificate authorities",
	}
	cmd.AddCommand(newPKICACreateCommand())
	return cmd
}

func newPKICACreateCommand() *cobra.Command {
	var (
		req     pkitool.CARequest
		kt      string
		nDays   int
		example = `  # the root CA of AWS's JITP walkthrough (C=IN, O=AMZ), with an EC P-256 key: ca.pem, ca.key
  iotcore pki ca create --c IN --o AMZ --cn "Device Root CA"

  # an RSA root named as in the walkthrough: deviceRootCA.pem, deviceRootCA.key
  iotcore pki ca create --name deviceRootCA --key-type rsa-2048 --c IN --o AMZ

  # an intermediate (issuing) CA under it: line4.pem, line4.key, line4-chain.pem
  iotcore pki ca create --parent deviceRootCA.pem --parent-key deviceRootCA.key --name line4 --cn "Line 4 CA"`
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a root CA, or an intermediate CA with --parent",
		Long: `Create a certificate authority to register with AWS IoT (iotcore ca register):
a self-signed root, or an intermediate signed by --parent. The certificate has
basicConstraints CA:TRUE and keyUsage keyCertSign, cRLSign.

A root is valid for 3650 days by default, an intermediate for 1825 (never past
its parent). An intermediate may sign device certificates only, unless
--path-len says how many CAs may follow it (-1: no limit).`,
		Example: example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if req.KeyType, err = keyType(cmd, kt); err != nil {
				return err
			}
			if (req.ParentCertPath == "") != (req.ParentKeyPath == "") {
				return fmt.Errorf("an intermediate CA needs both --parent and --parent-key")
			}
			req.Validity = days(nDays)
			res, err := pkitool.CreateCA(req)
			if err != nil {
				return pkiError(err)
			}
			out := cmd.OutOrStdout()
			printWritten(out, res.Files, res.Notes)
			fmt.Fprintf(out, "CA certificate id %s, valid until %s\n", res.ID, res.Certificate.NotAfter.UTC().Format("2006-01-02"))
			return nil
		},
	}
	fs := cmd.Flags()
	subjectFlags(fs, &req.Subject)
	keyTypeFlag(fs, &kt)
	fs.StringVar(&req.KeyPath, "key", "", "certify this existing private key instead of generating NAME.key")
	fs.StringVar(&req.ParentCertPath, "parent", "", "parent CA certificate: makes an intermediate CA")
	fs.StringVar(&req.ParentKeyPath, "parent-key", "", "the parent CA's private key")
	fs.IntVar(&req.PathLen, "path-len", 0, "intermediate only: how many CAs may follow it (0: devices only; -1: no limit)")
	fs.IntVar(&nDays, "days", 0, "validity in days (default 3650 for a root, 1825 for an intermediate)")
	outputFlags(fs, &req.Output, "ca", "NAME.pem, NAME.key and, for an intermediate, NAME-chain.pem")
	return cmd
}
