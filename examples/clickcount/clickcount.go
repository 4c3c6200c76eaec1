package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/examples/internal/demo"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

const (
	appID           = "clickcount"
	clicksTopic     = "clicks"
	pageViewsTopic  = "page-views"
	viewsStore      = "views-per-page"
	defaultDataDir  = "./data/clickcount"
	defaultClicks   = 500_000
	defaultPages    = 500
	defaultUsers    = 20_000
	defaultParts    = 4
	defaultTop      = 10
	defaultDeadline = 2 * time.Minute
)

// Config is what one run does; zero fields take the defaults above.
type Config struct {
	DataDir    string        // broker data under DataDir/broker, app state under DataDir/state
	Clicks     int           // clicks to generate
	Seed       uint64        // generator seed
	Pages      int           // distinct pages
	Users      int           // distinct users
	Partitions int32         // partitions of the clicks and page-views topics
	Top        int           // pages to print
	Deadline   time.Duration // how long counting may take
}

func (c *Config) defaults() {
	c.DataDir = cmpOr(c.DataDir, defaultDataDir)
	c.Clicks = cmpOr(c.Clicks, defaultClicks)
	c.Pages = cmpOr(c.Pages, defaultPages)
	c.Users = cmpOr(c.Users, defaultUsers)
	c.Partitions = cmpOr(c.Partitions, defaultParts)
	c.Top = cmpOr(c.Top, defaultTop)
	c.Deadline = cmpOr(c.Deadline, defaultDeadline)
}

func cmpOr[T comparable](v, dflt T) T {
	var zero T
	if v == zero {
		return dflt
	}
	return v
}

// Result is what a run counted and checked.
type Result struct {
	Generated int              // clicks written by this run
	Views     map[string]int64 // mobile views per page, all runs together
	Elapsed   time.Duration    // from starting the app to every click counted
}

// topology is the click counter: mobile clicks, grouped by page, counted.
func topology() (*stream.Builder, table.Table[string, int64]) {
	b := stream.NewBuilder(appID)
	clicks := stream.From(b, clicksTopic, serde.String, serde.JSON[Click](), stream.Named("clicks-source"))
	mobile := clicks.Filter(func(_ string, c Click) bool { return c.Device == "mobile" }, stream.Named("mobile-only"))
	byPage := stream.GroupBy(mobile, func(_ string, c Click) string { return c.Page }, serde.String, stream.Named("by-page"))
	views := table.Count(byPage, table.Named(viewsStore))
	views.ToStream().To(pageViewsTopic, serde.String, serde.Int64)
	return b, views
}

// Run generates clicks, counts them with the app, prints the top pages
// and checks every count; it returns an error on any mismatch.
func Run(ctx context.Context, cfg Config, out io.Writer) (*Result, error) {
	cfg.defaults()
	br, err := broker.Open(broker.Config{Dir: filepath.Join(cfg.DataDir, "broker")})
	if err != nil {
		return nil, fmt.Errorf("clickcount: open the embedded broker: %w", err)
	}
	defer br.Close()
	client := br.Embedded()
	if err := client.CreateTopics(ctx,
		broker.TopicSpec{Name: clicksTopic, Partitions: cfg.Partitions},
		broker.TopicSpec{Name: pageViewsTopic, Partitions: cfg.Partitions}); err != nil {
		return nil, fmt.Errorf("clickcount: create topics: %w", err)
	}

	want, earlier, err := countExisting(ctx, client)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	generated, err := generate(ctx, client, cfg.Clicks, cfg.Seed, cfg.Pages, cfg.Users)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "generated %d clicks (seed %d, %d pages, %d users) into %q in %v",
		cfg.Clicks, cfg.Seed, cfg.Pages, cfg.Users, clicksTopic, time.Since(t0).Round(time.Millisecond))
	if earlier > 0 {
		fmt.Fprintf(out, "; the topic already held %d from earlier runs", earlier)
	}
	fmt.Fprintln(out)
	for page, n := range generated {
		want[page] += n
	}

	b, views := topology()
	fmt.Fprintf(out, "\n%s\n", b.Describe())
	app, err := stream.NewApp(b, stream.Config{Client: client, StateDir: filepath.Join(cfg.DataDir, "state"),
		CommitInterval: 200 * time.Millisecond, Threads: 2})
	if err != nil {
		return nil, err
	}
	elapsed, err := demo.RunUntilCounted(ctx, app, views, want, cfg.Deadline)
	if err != nil {
		return nil, err
	}

	mobile := demo.Sum(generated)
	fmt.Fprintf(out, "counted %d new clicks (%d mobile, over %d pages) in %v: %.0f clicks/s, from the app's start to the last count\n\n",
		cfg.Clicks, mobile, len(generated), elapsed.Round(time.Millisecond), float64(cfg.Clicks)/elapsed.Seconds())
	fmt.Fprintf(out, "most viewed pages on mobile (table %q, all runs):\n", viewsStore)
	if err := demo.PrintTop(out, "page", demo.Top(want, cfg.Top)); err != nil {
		return nil, err
	}

	// Every count was looked up in the running app; the output topic's last
	// value per page, written when the caches flushed, must agree.
	last, err := demo.LastValues(ctx, client, pageViewsTopic, serde.Int64)
	if err != nil {
		return nil, err
	}
	if err := demo.CompareCounts(fmt.Sprintf("clickcount: topic %s", pageViewsTopic), last, want); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "\nchecked: %d pages, each count queried from the app equals the direct count, and so does its last value in %q\n",
		len(want), pageViewsTopic)
	return &Result{Generated: cfg.Clicks, Views: maps.Clone(want), Elapsed: elapsed}, nil
}
