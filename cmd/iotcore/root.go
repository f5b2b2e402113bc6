package main

import "github.com/spf13/cobra"

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "iotcore",
		Short:         "A self-hosted AWS IoT Core for device onboarding",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(), // --version
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(newServeCommand(), newPKICommand(), newCACommand(), newDeviceCommand(), newTemplateCommand(), newBenchCommand(), newMQTTCommand(), newConsoleCommand(), newStoreCommand(),
		newVersionCommand())
	return root
}
