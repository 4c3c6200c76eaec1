package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	var cfg Config
	flag.StringVar(&cfg.DataDir, "data", defaultDataDir, "data directory (embedded broker and app state)")
	flag.IntVar(&cfg.Lines, "lines", defaultLines, "lines to generate")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "generator seed")
	partitions := flag.Int("partitions", defaultParts, "partitions of the lines and word-counts topics")
	flag.IntVar(&cfg.Top, "top", defaultTop, "words to print")
	flag.DurationVar(&cfg.Deadline, "deadline", defaultDeadline, "how long counting may take")
	flag.Parse()
	if cfg.Lines <= 0 || *partitions <= 0 {
		fmt.Fprintln(os.Stderr, "wordcount: -lines and -partitions must be positive")
		os.Exit(2)
	}
	cfg.Partitions = int32(*partitions)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := Run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
