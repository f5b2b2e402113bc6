package main

import (
	"github.com/spf13/cobra"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pkitool"
)

func newPKIKeyCommand() *cobra.Command {
	var (
		req pkitool.KeyRequest
		kt  string
	)
	cmd := &cobra.Command{
		Use:     "key",
		Short:   "Generate a private key (PKCS#8 PEM, mode 0600)",
		Example: "  iotcore pki key --name device --key-type rsa-2048",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if req.Type, err = pki.ParseKeyType(kt); err != nil {
				return err
			}
			res, err := pkitool.NewKey(req)
			if err != nil {
				return pkiError(err)
			}
			printWritten(cmd.OutOrStdout(), res.Files, nil)
			return nil
		},
	}
	keyTypeFlag(cmd.Flags(), &kt)
	outputFlags(cmd.Flags(), &req.Output, "device", "NAME.key")
	return cmd
}
