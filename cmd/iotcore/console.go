package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/iotcore/iotcore/internal/console"
	"github.com/iotcore/iotcore/internal/server"
)

func newConsoleCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "console",
		Short: "The web console: one-time sign-in links",
		Long: `iotcore serve serves a web console on its API listener at /console/. Sign in
with the admin access key id and secret (the data directory's credentials
file), or with a one-time link: serve prints one to a terminal, and
'iotcore console link' makes another from the credentials file.`,
	}
	cmd.AddCommand(newConsoleLinkCommand())
	return cmd
}

func newConsoleLinkCommand() *cobra.Command {
	var dataDir, endpoint string
	cmd := &cobra.Command{
		Use:   "link",
		Short: "Print a one-time link that signs a browser into the console (valid once, for an hour)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			creds, err := server.ReadCredentials(dataDir)
			if err != nil {
				return fmt.Errorf("%w (pass --data-dir: the server's data directory)", err)
			}
			link := console.SignInLink(endpoint, console.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey}, time.Now())
			_, err = fmt.Fprintln(cmd.OutOrStdout(), link)
			return err
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", server.DefaultDataDir, "the server's data directory (its credentials file signs the link)")
	cmd.Flags().StringVar(&endpoint, "api-url", "http://"+server.DefaultAPIAddr, "the API's URL, as serve printed it")
	return cmd
}
