package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// TestGroupRepartitionedCounts: an app of two sub-topologies (re-keyed
// through a repartition topic, then counted), on two threads each, split
// over instances that come and go; the counts per new key stay exact.
func TestGroupRepartitionedCounts(t *testing.T) {
	b := openGroupBroker(t)
	start := func(name string) (*stream.App, table.Table[string, int64], chan error, context.CancelFunc) {
		sb := stream.NewBuilder("rekeyed")
		in := stream.From(sb, "in", serde.String, serde.String)
		// The key's last digit becomes the key: records of one new key
		// come from every input partition.
		byDigit := stream.GroupBy(in, func(k, _ string) string { return k[len(k)-1:] }, serde.String, stream.Named("by-digit"))
		counts := table.Count(byDigit, table.Named("digit-counts"))
		app, err := stream.NewApp(sb, stream.Config{
			Client: b.SharedEmbedded(), StateDir: t.TempDir(), CommitInterval: 30 * time.Millisecond, ApplicationServer: name + ":1",
			SessionTimeout: 10 * time.Second, HeartbeatInterval: 50 * time.Millisecond, // instances leave when they stop
			Threads: 2, // tasks spread over two workers, each parked and resumed at a rebalance
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- app.Run(ctx) }()
		return app, counts, done, cancel
	}
	truth := map[string]int64{}
	produce(t, b, 0, 200, truth)
	byDigit := func() map[string]int64 {
		out := map[string]int64{}
		for k, n := range truth {
			out[k[len(k)-1:]] += n
		}
		return out
	}
	// check waits until every digit's count, read from whichever instance
	// runs it, equals the input's.
	check := func(apps []*stream.App, counts table.Table[string, int64]) {
		t.Helper()
		want := byDigit()
		deadline := time.Now().Add(20 * time.Second)
		for {
			wrong := ""
			for digit, n := range want {
				answered := false
				for _, app := range apps {
					got, _, err := table.Lookup(app, counts, digit)
					if err != nil {
						continue // not here (or not yet restored)
					}
					answered = true
					if got != n {
						wrong = fmt.Sprintf("digit %s: %d, want %d", digit, got, n)
					}
				}
				if !answered {
					wrong = "digit " + digit + " answered nowhere"
				}
			}
			if wrong == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal(wrong)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	a, counts, aDone, aStop := start("a")
	bApp, _, bDone, bStop := start("b")
	check([]*stream.App{a, bApp}, counts)
	produce(t, b, 1, 200, truth)
	check([]*stream.App{a, bApp}, counts)
	c, _, cDone, cStop := start("c")
	// Both sub-topologies are spread: 6 tasks each, 12 over 3 instances.
	deadline := time.Now().Add(20 * time.Second)
	for {
		ga, _ := a.Internal().Assignment()
		balanced := len(ga.Instances) == 3
		for _, in := range ga.Instances {
			balanced = balanced && len(in.Active) == 4
		}
		if balanced {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a sees %+v", ga.Instances)
		}
		time.Sleep(10 * time.Millisecond)
	}
	produce(t, b, 2, 200, truth)
	check([]*stream.App{a, bApp, c}, counts)
	aStop()
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	produce(t, b, 3, 200, truth)
	check([]*stream.App{bApp, c}, counts)
	for _, s := range []struct {
		stop context.CancelFunc
		done chan error
	}{{bStop, bDone}, {cStop, cDone}} {
		s.stop()
		if err := <-s.done; err != nil {
			t.Fatal(err)
		}
	}
}
