package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iotcore/iotcore/internal/pki"
	"github.com/iotcore/iotcore/internal/pkitool"
)

func newPKICommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pki",
		Short: "Make CAs, device keys, CSRs and certificates, in place of openssl",
		Long: `Make the certificates of AWS IoT device onboarding: root and intermediate CAs, the
verification certificate for a registration code, device keys, CSRs and device
certificates with the subject attributes JITP templates read, and the device+CA
chain a device presents on its first connection.

Files are PEM, as openssl, mosquitto and the AWS SDKs read them; private keys
are PKCS#8 with mode 0600. An existing key or certificate is never replaced
unless --force is given: a command whose files exist fails before doing anything.`,
	}
	cmd.AddCommand(newPKICACommand(), newPKIVerificationCommand(), newPKIKeyCommand(), newPKICSRCommand(), newPKIDeviceCertCommand())
	return cmd
}

// subjectFlags declares the subject attribute flags on fs.
func subjectFlags(fs *pflag.FlagSet, s *pkitool.Subject) {
	fs.StringVar(&s.CommonName, "cn", "", "subject common name (CN); JITP templates often make it the thing name")
	fs.StringVar(&s.Country, "c", "", "subject country (C), two letters such as IN")
	fs.StringVar(&s.Organization, "o", "", "subject organization (O)")
	fs.StringVar(&s.OrganizationalUnit, "ou", "", "subject organizational unit (OU)")
	fs.StringVar(&s.State, "st", "", "subject state or province (ST)")
	fs.StringVar(&s.Locality, "l", "", "subject locality (L)")
	fs.StringVar(&s.SerialNumber, "serial-number", "", "subject serialNumber attribute (a device serial; not the certificate's serial number)")
	fs.StringVar(&s.DNQualifier, "dn-qualifier", "", "subject dnQualifier attribute")
}

// outputFlags declares --dir, --name and --force.
func outputFlags(fs *pflag.FlagSet, o *pkitool.Output, defaultName, files string) {
	fs.StringVar(&o.Dir, "dir", ".", "directory to write to (created if missing)")
	fs.StringVar(&o.Name, "name", defaultName, "file name stem: writes "+files)
	fs.BoolVar(&o.Force, "force", false, "replace existing files (keys included)")
}

// keyTypeFlag declares --key-type; keyType returns it only if it was given,
// so that it can be told apart from an existing key's type.
func keyTypeFlag(fs *pflag.FlagSet, p *string) {
	fs.StringVar(p, "key-type", string(pki.DefaultKeyType), fmt.Sprintf("type of a new key: one of %v", pki.KeyTypes()))
}

func keyType(cmd *cobra.Command, s string) (pki.KeyType, error) {
	if !cmd.Flags().Changed("key-type") {
		return "", nil
	}
	return pki.ParseKeyType(s)
}

// days turns --days into a validity; 0 means the command's default.
func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// pkiError adds to an error what the user can do about it.
func pkiError(err error) error {
	var exists *pkitool.ExistsError
	if errors.As(err, &exists) {
		them := "them"
		if len(exists.Paths) == 1 {
			them = "it"
		}
		return fmt.Errorf("%w: remove %s, choose another --name or --dir, or pass --force to replace %[2]s", err, them)
	}
	return err
}

// printWritten lists the files a command wrote, and its notes.
func printWritten(w io.Writer, files []pkitool.Written, notes []string) {
	for _, f := range files {
		fmt.Fprintf(w, "wrote %s\n", f)
	}
	for _, n := range notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}
