package window_test

import (
	"testing"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/table"
	"github.com/eddy-streams/eddy/window"
)

// minute0 is a round minute of event time.
var minute0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).UnixMilli()

func countPerMinute(opts ...window.Option) aggregation[int64] {
	return func(g stream.Grouped[string, int64], more ...window.Option) table.Table[window.Key[string], int64] {
		return window.Count(g, window.Tumbling(time.Minute).Grace(10*time.Second), append(more, opts...)...)
	}
}

func readKeys(t *testing.T, out *streamtest.OutputTopic[window.Key[string], int64]) []window.Key[string] {
	t.Helper()
	var keys []window.Key[string]
	for _, r := range out.ReadAll() {
		keys = append(keys, r.Key)
	}
	if err := out.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}

// Key "d" is on partition 1 and "a" on partition 0 (Kafka's default
// partitioner, two partitions).
func TestIdlePartitionClosesWindowsOnTheWallClock(t *testing.T) {
	r := start(t, countPerMinute(window.EmitFinal(), window.CloseIdleAfter(30*time.Second)), serde.Int64, nil)
	in := streamtest.Input(r.d, "in", serde.String, serde.Int64)
	advance := func(d time.Duration) {
		t.Helper()
		if err := r.d.AdvanceWallClock(d); err != nil {
			t.Fatal(err)
		}
	}
	pipe := func(key string, at int64) {
		t.Helper()
		if err := in.PipeAt(key, 1, at); err != nil {
			t.Fatal(err)
		}
	}
	pipe("a", minute0+10_000)
	pipe("d", minute0+20_000)
	pipe("d", minute0+25_000)
	// The minute closes at minute0+70s. Partition 0's time is minute0+10s
	// and partition 1's minute0+25s: with no more records, stream time
	// would hold both windows back for ever.
	advance(29 * time.Second)
	if keys := readKeys(t, r.out); len(keys) != 0 {
		t.Fatalf("emitted %v before the partitions were idle for 30s", keys)
	}
	// From 30 s of idleness on, each partition's time is its last record's
	// + the wall-clock time since it arrived: partition 1 reaches the close
	// time after 45 s, partition 0 after 60 s.
	advance(16*time.Second - time.Millisecond)
	if keys := readKeys(t, r.out); len(keys) != 0 {
		t.Fatalf("emitted %v before partition 1's time reached the close time", keys)
	}
	advance(time.Millisecond)
	want := window.Key[string]{Key: "d", Start: minute0, End: minute0 + 60_000}
	if keys := readKeys(t, r.out); len(keys) != 1 || keys[0] != want {
		t.Fatalf("after 45 s emitted %v, want [%v]", keys, want)
	}
	advance(15 * time.Second)
	want.Key = "a"
	if keys := readKeys(t, r.out); len(keys) != 1 || keys[0] != want {
		t.Fatalf("after 60 s emitted %v, want [%v]", keys, want)
	}
	// The advanced time stays: a record for the closed minute is late now,
	// and nothing is emitted again, however long the clock runs.
	pipe("a", minute0+50_000)
	if len(r.late) != 1 || r.late[0].TS != minute0+50_000 {
		t.Fatalf("late records %v, want the one at minute0+50s", r.late)
	}
	advance(time.Hour)
	if keys := readKeys(t, r.out); len(keys) != 0 {
		t.Fatalf("emitted again: %v", keys)
	}
	// A record of a new minute, then idleness, closes that minute too.
	pipe("a", minute0+65*60_000)
	advance(2 * time.Minute)
	want = window.Key[string]{Key: "a", Start: minute0 + 65*60_000, End: minute0 + 66*60_000}
	if keys := readKeys(t, r.out); len(keys) != 1 || keys[0] != want {
		t.Fatalf("emitted %v, want [%v]", keys, want)
	}
}

// A busy partition does not hold back an idle one, nor does the idle one
// advance the busy one's time beyond its records.
func TestIdlePartitionBesideABusyOne(t *testing.T) {
	r := start(t, countPerMinute(window.EmitFinal()), serde.Int64, nil) // default: idle after 1 s
	in := streamtest.Input(r.d, "in", serde.String, serde.Int64)
	if err := in.PipeAt("a", 1, minute0+1_000); err != nil {
		t.Fatal(err)
	}
	// Partition 1 gets a record every wall-clock second, one event-time
	// second apart, for two minutes: its time keeps pace with the records.
	for i := range 120 {
		if err := in.PipeAt("d", 1, minute0+int64(i)*1000); err != nil {
			t.Fatal(err)
		}
		if err := r.d.AdvanceWallClock(time.Second); err != nil {
			t.Fatal(err)
		}
	}
	got := map[window.Key[string]]int64{}
	for _, rec := range r.out.ReadAll() {
		got[rec.Key] = rec.Value
	}
	want := map[window.Key[string]]int64{
		// Partition 0 idle since the start: closed by the wall clock.
		{Key: "a", Start: minute0, End: minute0 + 60_000}: 1,
		// Partition 1's first minute closed by its own records at +70 s.
		{Key: "d", Start: minute0, End: minute0 + 60_000}: 60,
	}
	compareMaps(t, "emitted", got, want)
}

func TestCloseIdleAfterZeroWaitsForRecords(t *testing.T) {
	r := start(t, countPerMinute(window.EmitFinal(), window.CloseIdleAfter(0)), serde.Int64, nil)
	in := streamtest.Input(r.d, "in", serde.String, serde.Int64)
	if err := in.PipeAt("a", 1, minute0); err != nil {
		t.Fatal(err)
	}
	if err := r.d.AdvanceWallClock(24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if keys := readKeys(t, r.out); len(keys) != 0 {
		t.Fatalf("emitted %v without a record moving time", keys)
	}
	if err := in.PipeAt("b", 1, minute0+70_000); err != nil {
		t.Fatal(err)
	}
	if keys := readKeys(t, r.out); len(keys) != 1 || keys[0].Key != "a" {
		t.Fatalf("emitted %v, want a's first minute", keys)
	}
}

// Without EmitFinal, idleness changes nothing unless asked for.
func TestIdleCloseIsOffWithoutEmitFinal(t *testing.T) {
	r := start(t, countPerMinute(), serde.Int64, nil)
	in := streamtest.Input(r.d, "in", serde.String, serde.Int64)
	if err := in.PipeAt("a", 1, minute0); err != nil {
		t.Fatal(err)
	}
	if err := r.d.AdvanceWallClock(24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	// Still open: a record for the minute counts.
	if err := in.PipeAt("a", 1, minute0+59_000); err != nil {
		t.Fatal(err)
	}
	if len(r.late) != 0 {
		t.Fatalf("late records %v", r.late)
	}
	latest := streamtest.LatestByKey(r.out)
	if n := latest[window.Key[string]{Key: "a", Start: minute0, End: minute0 + 60_000}]; n != 2 {
		t.Fatalf("count %d, want 2 (%v)", n, latest)
	}
}

// TestEmitFinalGoesOnAfterAFailingWindow: when forwarding one closed
// window fails (its record is skipped under LogAndContinue), the other
// windows closing at the same time are still emitted, once.
func TestEmitFinalGoesOnAfterAFailingWindow(t *testing.T) {
	b := stream.NewBuilder("emit-fail")
	counts := window.Count(stream.From(b, "in", serde.String, serde.Int64).GroupByKey(),
		window.Tumbling(time.Minute).Grace(0), window.Named("w"), window.EmitFinal())
	counts.ToStream().Peek(func(k window.Key[string], _ int64) {
		if k.Key == "b" {
			panic("downstream fails on b")
		}
	}).To("out", nil, nil)
	d, err := streamtest.New(b, streamtest.AppConfig(stream.Config{OnProcessingError: stream.LogAndContinue()}))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	in := streamtest.Input(d, "in", serde.String, serde.Int64)
	out := streamtest.Output(d, "out", window.KeySerde(serde.String), serde.Int64)
	for _, k := range []string{"a", "b", "c", "d"} {
		if err := in.PipeAt(k, 1, minute0+1000); err != nil {
			t.Fatal(err)
		}
	}
	// The next minute's record closes the first: a comes out, b's forward
	// fails, and the record with it; c and d follow with the next record.
	for _, ts := range []int64{minute0 + 61_000, minute0 + 62_000} {
		if err := in.PipeAt("a", 1, ts); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]int64{}
	for _, r := range out.ReadAll() {
		if _, dup := got[r.Key.Key]; dup {
			t.Fatalf("window of %s emitted twice", r.Key.Key)
		}
		got[r.Key.Key] = r.Value
	}
	if len(got) != 3 || got["a"] != 1 || got["c"] != 1 || got["d"] != 1 {
		t.Fatalf("emitted %v, want a, c and d once each", got)
	}
}
