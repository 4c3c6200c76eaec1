package demo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// RunUntilCounted runs app until every key of want holds its expected
// count in the table counts (or deadline passes), then stops it cleanly. It
// returns the time from the app's start to the last count.
func RunUntilCounted(ctx context.Context, app *stream.App, counts table.Table[string, int64], want map[string]int64, deadline time.Duration) (time.Duration, error) {
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- app.Run(runCtx) }()
	select {
	case <-app.Ready():
	case err := <-done:
		return 0, fmt.Errorf("demo: the app stopped while starting: %w", err)
	}
	waitCtx, cancelWait := context.WithTimeout(ctx, deadline)
	err := waitForCounts(waitCtx, app, counts, want, done)
	cancelWait()
	elapsed := time.Since(start)
	stop()
	if runErr := <-done; runErr != nil || err != nil {
		return 0, errors.Join(err, runErr)
	}
	return elapsed, nil
}

// waitForCounts polls a running app's table with table.Lookup until every
// key holds its expected count. It returns an error naming a key that is
// still behind when ctx ends or when the app stops (done receives Run's
// result).
func waitForCounts(ctx context.Context, app *stream.App, counts table.Table[string, int64], want map[string]int64, done <-chan error) error {
	keys := sortedKeys(want)
	pending := keys
	for {
		var behind []string
		for _, k := range pending {
			got, ok, err := table.Lookup(app, counts, k)
			if err != nil {
				return fmt.Errorf("demo: look up %q: %w", k, err)
			}
			if !ok || got != want[k] {
				behind = append(behind, k)
			}
		}
		if len(behind) == 0 {
			return nil
		}
		pending = behind
		select {
		case <-ctx.Done():
			got, ok, _ := table.Lookup(app, counts, behind[0])
			return fmt.Errorf("demo: %d keys not counted yet, e.g. %q: %d (present %v), want %d: %w",
				len(behind), behind[0], got, ok, want[behind[0]], ctx.Err())
		case err := <-done:
			return fmt.Errorf("demo: the app stopped with %d keys not counted yet: %v", len(behind), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// CompareCounts returns nil if got and want hold the same keys and counts,
// else an error listing the first few differences.
func CompareCounts(what string, got, want map[string]int64) error {
	var diffs []string
	for _, k := range sortedKeys(want) {
		if g, ok := got[k]; !ok || g != want[k] {
			diffs = append(diffs, fmt.Sprintf("%q: %d (present %v), want %d", k, g, ok, want[k]))
		}
	}
	for _, k := range sortedKeys(got) {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%q: %d, want nothing", k, got[k]))
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	const shown = 5
	total := len(diffs)
	if total > shown {
		diffs = append(diffs[:shown], "...")
	}
	return fmt.Errorf("%s: %d differences: %s", what, total, strings.Join(diffs, "; "))
}

// Entry is a key and its count.
type Entry struct {
	Key   string
	Count int64
}

// Top returns the n keys with the largest counts, ties broken by key.
func Top(counts map[string]int64, n int) []Entry {
	all := make([]Entry, 0, len(counts))
	for k, c := range counts {
		all = append(all, Entry{k, c})
	}
	slices.SortFunc(all, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Key, b.Key))
	})
	return all[:min(n, len(all))]
}

// PrintTop writes a ranking as a table: rank, key (under the given
// column title) and count.
func PrintTop(w io.Writer, title string, entries []Entry) error {
	keyWidth, countWidth := len(title), len("count")
	for _, e := range entries {
		keyWidth = max(keyWidth, len(e.Key))
		countWidth = max(countWidth, len(fmt.Sprint(e.Count)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%4s  %-*s  %*s\n", "rank", keyWidth, title, countWidth, "count")
	for i, e := range entries {
		fmt.Fprintf(&b, "%4d  %-*s  %*d\n", i+1, keyWidth, e.Key, countWidth, e.Count)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Sum adds up counts.
func Sum(counts map[string]int64) int64 {
	var n int64
	for _, c := range counts {
		n += c
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
