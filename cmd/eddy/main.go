package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := &cobra.Command{
		Use:           "eddy",
		Short:         "eddy: stream processing with built-in, Kafka-compatible log storage",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(logDemoCommand(), brokerCommand())
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "eddy:", err)
		os.Exit(1)
	}
}
