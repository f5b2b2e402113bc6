package main

import (
	"cmp"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/provision"
	"github.com/iotcore/iotcore/internal/server"
)

func newTemplateCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "template", Short: "Work with provisioning templates"}
	cmd.AddCommand(newTemplateCheckCommand())
	return cmd
}

// templateCheckFailed is a check that found the template would fail: exit 1.
type templateCheckFailed struct{ err error }

func (e templateCheckFailed) Error() string { return "provisioning would fail: " + e.err.Error() }
func (e templateCheckFailed) ExitCode() int { return 1 }

func newTemplateCheckCommand() *cobra.Command {
	var templatePath, certPath, region, accountID string
	cmd := &cobra.Command{
		Use:   "check --template FILE --cert DEVICE.crt",
		Short: "Dry-run a JITP template against a device certificate",
		Long: `Render a just-in-time provisioning template with a device certificate's
parameters, exactly as the device's first connection would, and print the
resources it would create or reuse, or the precise reason it would fail (for
example a parameter the certificate's subject cannot supply). Nothing is
changed anywhere; whether named policies, thing types and groups exist is only
known to a running server.

With --region or --account-id (the server's, as given to serve; the other
takes serve's default), it also warns about the template's policies whose ARNs
name another region or account: devices provisioned with them would be
refused iot:Connect.

FILE is a template body or a registration config as AWS's walkthroughs write
it ({"templateBody": "...", "roleArn": "..."}). Exit status: 0 when provisioning
would succeed, 1 when it would fail, 2 for unreadable input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			text, err := os.ReadFile(templatePath)
			if err != nil {
				return usageError{err}
			}
			body, err := provision.TemplateBody(string(text))
			if err != nil {
				return usageError{fmt.Errorf("%s: %w", templatePath, err)}
			}
			certPEM, err := os.ReadFile(certPath)
			if err != nil {
				return usageError{err}
			}
			cert, err := pki.ParseCertificatePEM(string(certPEM))
			if err != nil {
				return usageError{fmt.Errorf("%s: %w", certPath, err)}
			}
			plan, err := provision.Check(body, cert)
			if err != nil {
				return templateCheckFailed{err}
			}
			fmt.Fprint(cmd.OutOrStdout(), provision.Describe(plan, pki.CertificateID(cert.Raw)))
			if region != "" || accountID != "" {
				acct := iot.Account{ID: cmp.Or(accountID, server.DefaultAccountID), Region: cmp.Or(region, server.DefaultRegion)}
				for _, w := range provision.PlanWarnings(plan, acct) {
					fmt.Fprintf(cmd.OutOrStdout(), "warning: %s: devices would be refused iot:Connect\n", w)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&templatePath, "template", "", "the template file (required)")
	cmd.Flags().StringVar(&certPath, "cert", "", "the device certificate, PEM (required)")
	cmd.Flags().StringVar(&region, "region", "", "the server's region (serve --region), to check the policies' ARNs")
	cmd.Flags().StringVar(&accountID, "account-id", "", "the server's account id (serve --account-id), to check the policies' ARNs")
	_ = cmd.MarkFlagRequired("template")
	_ = cmd.MarkFlagRequired("cert")
	return cmd
}

// usageError is unreadable input: exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) ExitCode() int { return 2 }
func (e usageError) Unwrap() error { return e.err }
