package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/iotcore/iotcore/internal/devicesim"
	"github.com/iotcore/iotcore/internal/pki"
)

func newDeviceProvisionCommand() *cobra.Command {
	var (
		pc                         devicesim.ProvisionConfig
		caFile, claimCert, claimKy string
		params                     []string
		keyType                    string
	)
	cmd := &cobra.Command{
		Use:   "provision",
		Short: "Fleet provisioning by claim: trade a claim certificate for the device's own",
		Long: `Run AWS IoT fleet provisioning's MQTT exchange as a device would, against
iotcore or AWS IoT: connect with the shared claim certificate, get a
certificate of the device's own (CreateKeysAndCertificate, or with --csr
CreateCertificateFromCsr with a key generated here that never leaves the
machine), register it with the fleet-provisioning template --template and
its --param values (RegisterThing), write the certificate and its key (0600)
to --out-dir, and connect once with them. Each step, and why one failed, goes
to standard error; a JSON summary (certificateId, thingName,
deviceConfiguration, files) to standard output.

The claim certificate's policies must allow the exchange: see
docs/fleet-provisioning.md for a complete claim policy.

` + deviceExitCodes,
		Example: `  iotcore device provision --endpoint localhost:8883 --cafile iotcore-data/ca.pem \
    --claim-cert claim.crt --claim-key claim.key --template FleetTemplate \
    --param SerialNumber=SN-0001 --out-dir device/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if pc.Parameters, err = devicesim.ParseParameters(params); err != nil {
				return err
			}
			if pc.CSR {
				if pc.KeyType, err = pki.ParseKeyType(keyType); err != nil {
					return fmt.Errorf("--key-type: %w", err)
				}
			}
			if err := os.MkdirAll(pc.Dir, 0o700); err != nil {
				return err
			}
			if pc.RootCAs, pc.Certificate, err = devicesim.LoadCredentials(caFile, claimCert, claimKy); err != nil {
				return err
			}
			pc.QoS = 1
			pc.Log = cmd.ErrOrStderr()
			res, err := devicesim.Provision(cmd.Context(), pc)
			if err != nil {
				return err
			}
			out, _ := json.Marshal(map[string]any{
				"certificateId": res.CertificateID, "thingName": res.ThingName, "deviceConfiguration": res.DeviceConfiguration,
				"certificateFile": res.CertFile, "keyFile": res.KeyFile,
			})
			_, err = fmt.Fprintln(cmd.OutOrStdout(), string(out))
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&pc.Addr, "endpoint", "", "MQTT endpoint host:port, such as localhost:8883 (required)")
	fs.StringVar(&caFile, "cafile", "", "CA file to trust the server with: iotcore's <data-dir>/ca.pem (default: the system's roots)")
	fs.StringVar(&claimCert, "claim-cert", "", "the claim certificate (required)")
	fs.StringVar(&claimKy, "claim-key", "", "the claim certificate's private key (required)")
	fs.StringVar(&pc.ClientID, "client-id", "", "MQTT client id of the claim connection (default: provision- and a random suffix, since every device shares the claim)")
	fs.StringVar(&pc.ServerName, "server-name", "", "name the server certificate must carry (default: the endpoint's host)")
	fs.StringVar(&pc.Template, "template", "", "the fleet-provisioning template's name (required)")
	fs.StringArrayVar(&params, "param", nil, "a RegisterThing parameter, name=value (repeatable)")
	fs.BoolVar(&pc.CSR, "csr", false, "generate the key here and send a CSR (CreateCertificateFromCsr)")
	fs.StringVar(&keyType, "key-type", string(pki.KeyECP256), "the key --csr generates")
	fs.StringVar(&pc.Dir, "out-dir", ".", "where to write <name>.crt and <name>.key")
	fs.StringVar(&pc.Name, "name", "", "file name of the certificate and key, without extension (default: the thing's name)")
	fs.DurationVar(&pc.Wait, "wait", devicesim.DefaultWait, "how long to wait for each answer")
	fs.IntVar(&pc.Attempts, "attempts", devicesim.DefaultAttempts, "connection attempts (-1: until interrupted)")
	fs.StringVar(&pc.APIEndpointURL, "endpoint-url", os.Getenv("AWS_ENDPOINT_URL"), "the API's URL, named in the aws commands the simulator suggests")
	for _, f := range []string{"endpoint", "claim-cert", "claim-key", "template"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}
