package main

import (
	"github.com/spf13/cobra"

	"github.com/iotcore/iotcore/internal/pkitool"
)

func newPKICSRCommand() *cobra.Command {
	var (
		req pkitool.CSRRequest
		kt  string
	)
	cmd := &cobra.Command{
		Use:   "csr",
		Short: "Make a certificate signing request, for a key that stays on the device",
		Example: `  iotcore pki csr --key device.key --cn DemoThing --c IN      # writes device.csr
  iotcore pki csr --name dev-42 --cn dev-42 --serial-number SN-42  # writes dev-42.key and dev-42.csr`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if req.KeyType, err = keyType(cmd, kt); err != nil {
				return err
			}
			res, err := pkitool.NewCSR(req)
			if err != nil {
				return pkiError(err)
			}
			printWritten(cmd.OutOrStdout(), res.Files, nil)
			return nil
		},
	}
	fs := cmd.Flags()
	subjectFlags(fs, &req.Subject)
	fs.StringVar(&req.KeyPath, "key", "", "sign with this existing private key instead of generating NAME.key")
	keyTypeFlag(fs, &kt)
	outputFlags(fs, &req.Output, "device", "NAME.csr and, for a new key, NAME.key")
	return cmd
}
