package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"
)

func TestWords(t *testing.T) {
	got := words("A river never stops; it's 2 rivers, really-Eddies!")
	want := []string{"a", "river", "never", "stops", "it's", "2", "rivers", "really", "eddies"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("words = %q, want %q", got, want)
	}
}

func TestWordCount(t *testing.T) {
	var out bytes.Buffer
	cfg := Config{DataDir: t.TempDir(), Lines: 400, Seed: 3, Partitions: 2, Top: 5, Deadline: 20 * time.Second}
	res, err := Run(context.Background(), cfg, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	// Recount the same draw of corpus lines here, apart from the topic.
	want := map[string]int64{}
	for _, line := range drawLines(cfg.Seed, cfg.Lines) {
		for _, w := range words(line) {
			want[w]++
		}
	}
	if res.Lines != int64(cfg.Lines) || !maps.Equal(res.Counts, want) {
		t.Fatalf("counted %d lines: %v\nwant %d lines: %v", res.Lines, res.Counts, cfg.Lines, want)
	}
	if !strings.Contains(out.String(), "rank  word") || !strings.Contains(out.String(), "checked: ") {
		t.Fatalf("unexpected output:\n%s", out.String())
	}
}
