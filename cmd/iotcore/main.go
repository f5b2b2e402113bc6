// Command iotcore is a self-hosted AWS IoT Core for device onboarding: the AWS
// IoT control-plane API and MQTT over mutual TLS with JITP and JITR (serve),
// and the tools around them: the factory PKI (pki), one-step CA registration
// (ca register) and a device simulator (device run).
//
// This file only wires: configuration, flags, signals.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// exitCode is 1, or the code an error carries (`iotcore device run`
// documents its own).
func exitCode(err error) int {
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) {
		return coded.ExitCode()
	}
	return 1
}

func main() {
	reexecWithLeanStacks(os.Args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "iotcore:", err)
		stop()
		os.Exit(exitCode(err))
	}
}
