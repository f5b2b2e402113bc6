package main

import "github.com/spf13/cobra"

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "iotcore",
		Short:         "A self-hosted AWS IoT Core for device onboarding",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCommand(), newPKICommand(), newCACommand(), newDeviceCommand(), newTemplateCommand(), newBenchCommand())
	return root
}
