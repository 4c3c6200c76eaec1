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
	flag.IntVar(&cfg.Clicks, "clicks", defaultClicks, "clicks to generate")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "generator seed")
	flag.IntVar(&cfg.Pages, "pages", defaultPages, "distinct pages")
	flag.IntVar(&cfg.Users, "users", defaultUsers, "distinct users")
	partitions := flag.Int("partitions", defaultParts, "partitions of the clicks and page-views topics")
	flag.IntVar(&cfg.Top, "top", defaultTop, "pages to print")
	flag.DurationVar(&cfg.Deadline, "deadline", defaultDeadline, "how long counting may take")
	flag.Parse()
	cfg.Partitions = int32(*partitions)
	if cfg.Clicks <= 0 || cfg.Pages < 2 || cfg.Users <= 0 || cfg.Partitions <= 0 {
		fmt.Fprintln(os.Stderr, "clickcount: -clicks, -users and -partitions must be positive, -pages at least 2")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := Run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
