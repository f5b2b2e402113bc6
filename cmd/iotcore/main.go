// Command iotcore is a self-hosted AWS IoT Core for device onboarding: the AWS
// IoT control-plane API, and (next) MQTT over mutual TLS with JITP and JITR.
//
// This file only wires: configuration, flags, signals.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "iotcore:", err)
		os.Exit(1)
	}
}
