package main

import (
	"bytes"
	"context"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/examples/internal/demo"
	"github.com/eddy-streams/eddy/serde"
)

func testConfig(dir string) Config {
	return Config{DataDir: dir, Clicks: 3000, Seed: 7, Pages: 40, Users: 300, Partitions: 3, Top: 5, Deadline: 20 * time.Second}
}

// directCounts reopens the run's broker and counts mobile clicks per page
// from the clicks topic, independently of the app.
func directCounts(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	br, err := broker.Open(broker.Config{Dir: filepath.Join(dir, "broker")})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	counts, _, err := countExisting(context.Background(), br.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	return counts
}

func TestClickCountTwice(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var out bytes.Buffer
	first, err := Run(ctx, testConfig(dir), &out)
	if err != nil {
		t.Fatalf("first run: %v\n%s", err, out.String())
	}
	direct := directCounts(t, dir)
	if !maps.Equal(first.Views, direct) || demo.Sum(direct) == 0 {
		t.Fatalf("first run counted %v, the topic holds %v", first.Views, direct)
	}
	for _, want := range []string{"rank  page", "checked: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	// The same seed again: the app resumes where it stopped, so every
	// count doubles.
	out.Reset()
	second, err := Run(ctx, testConfig(dir), &out)
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "already held 3000") {
		t.Errorf("second run does not report the earlier clicks:\n%s", out.String())
	}
	for page, n := range first.Views {
		if second.Views[page] != 2*n {
			t.Errorf("page %s: %d views after two runs, want %d", page, second.Views[page], 2*n)
		}
	}
	if !maps.Equal(second.Views, directCounts(t, dir)) {
		t.Fatalf("second run counted %v, the topic holds %v", second.Views, directCounts(t, dir))
	}
}

// TestClickCountReportsMismatch plants a wrong count in page-views before
// the run: the check of the output topic must fail the run.
func TestClickCountReportsMismatch(t *testing.T) {
	dir := t.TempDir()
	br, err := broker.Open(broker.Config{Dir: filepath.Join(dir, "broker")})
	if err != nil {
		t.Fatal(err)
	}
	client := br.Embedded()
	ctx := context.Background()
	if err := client.CreateTopics(ctx, broker.TopicSpec{Name: pageViewsTopic, Partitions: 3}); err != nil {
		t.Fatal(err)
	}
	b := batch.NewBuilder(batch.BuilderOptions{})
	v, _ := serde.Int64.Serialize("", 42)
	b.Add(batch.Record{Key: []byte("/never-visited"), Value: v, Timestamp: startTime})
	data, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Append(ctx, pageViewsTopic, 0, data); err != nil {
		t.Fatal(err)
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, err = Run(ctx, testConfig(dir), &out)
	if err == nil || !strings.Contains(err.Error(), `"/never-visited": 42`) {
		t.Fatalf("Run = %v, want an error naming the planted count\n%s", err, out.String())
	}
}
