package streamtest_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/table"
)

// piped is one raw record of the poison-pill tests.
type piped struct {
	i           int
	key         string
	value       []byte
	ts          int64
	undecodable bool
	panics      bool
}

// doublingApp doubles int64 values from "numbers" into "doubled"; its
// mapper panics on negative values.
func doublingApp(appID string) *stream.Builder {
	b := stream.NewBuilder(appID)
	nums := stream.From(b, "numbers", serde.String, serde.Int64)
	stream.MapValues(nums, func(_ string, v int64) int64 {
		if v < 0 {
			panic("negative number")
		}
		return v * 2
	}, stream.Serdes[string](nil, serde.Int64)).To("doubled", nil, nil)
	return b
}

// poisonInput is 60 records: int64 values, except an undecodable value
// every 10th record and a -1 every 15th.
func poisonInput() []piped {
	var out []piped
	for i := range 60 {
		p := piped{i: i, key: fmt.Sprint("k", i%7), ts: baseTS + int64(i)*1000}
		switch {
		case i%10 == 9:
			p.value, p.undecodable = []byte("not 8 bytes"), true
		case i%15 == 14:
			p.value, _ = serde.Int64.Serialize("", -1)
			p.panics = true
		default:
			p.value, _ = serde.Int64.Serialize("", int64(i))
		}
		out = append(out, p)
	}
	return out
}

// pipePoison pipes the records until one fails; it returns the index and
// error of that one (-1, nil if none did).
func pipePoison(d *streamtest.Driver, recs []piped) (int, error) {
	in := streamtest.Input(d, "numbers", serde.String, serde.Int64)
	for _, p := range recs {
		if err := in.PipeRaw([]byte(p.key), p.value, time.UnixMilli(p.ts)); err != nil {
			return p.i, err
		}
	}
	return -1, nil
}

func wantDoubled(recs []piped) []rec[string, int64] {
	var want []rec[string, int64]
	for _, p := range recs {
		if !p.undecodable && !p.panics {
			want = append(want, rec[string, int64]{Key: p.key, Value: int64(p.i) * 2, TS: p.ts})
		}
	}
	return want
}

func TestBadRecordsFailTheApp(t *testing.T) {
	recs := poisonInput()
	for _, tc := range []struct {
		name    string
		cfg     stream.Config
		firstAt int
		part    string
	}{
		{"deserialization", stream.Config{OnProcessingError: stream.LogAndContinue()}, 9, "cannot deserialize record value"},
		{"processing", stream.Config{OnDeserializationError: stream.LogAndContinue()}, 14, "negative number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := start(t, doublingApp("fail-"+tc.name), streamtest.AppConfig(tc.cfg), streamtest.Partitions("numbers", 3))
			at, err := pipePoison(d, recs)
			if at != tc.firstAt {
				t.Fatalf("first failure at record %d (%v), want %d", at, err, tc.firstAt)
			}
			var perr *stream.ProcessingError
			if !errors.As(err, &perr) {
				t.Fatalf("error %v is not a *stream.ProcessingError", err)
			}
			bad := recs[at]
			wantP := partitionOf(serde.String, bad.key, 3)
			// The offset is the record's position in its partition.
			wantOff := int64(0)
			for _, p := range recs[:at] {
				if partitionOf(serde.String, p.key, 3) == wantP {
					wantOff++
				}
			}
			if perr.Topic != "numbers" || perr.Partition != wantP || perr.Offset != wantOff {
				t.Fatalf("failure at %s-%d offset %d, want numbers-%d offset %d", perr.Topic, perr.Partition, perr.Offset, wantP, wantOff)
			}
			msg := err.Error()
			if want := fmt.Sprintf("numbers-%d at offset %d", wantP, wantOff); !strings.Contains(msg, want) || !strings.Contains(msg, tc.part) {
				t.Fatalf("error %q does not name %q and %q", msg, want, tc.part)
			}
			// The app would have stopped: so does the driver.
			if d.Err() == nil {
				t.Fatal("Err() is nil after a failure")
			}
			err = streamtest.Input(d, "numbers", serde.String, serde.Int64).Pipe("k", 1, time.UnixMilli(baseTS))
			if !errors.Is(err, streamtest.ErrStopped) || !errors.Is(err, perr) {
				t.Fatalf("pipe after failure: %v, want ErrStopped wrapping the failure", err)
			}
			if err := d.Commit(); !errors.Is(err, streamtest.ErrStopped) {
				t.Fatalf("commit after failure: %v", err)
			}
			checkRecords(t, "doubled", streamtest.Output(d, "doubled", serde.String, serde.Int64).ReadAll(), wantDoubled(recs[:at]))
		})
	}
}

func TestBadRecordsToDeadLetterTopic(t *testing.T) {
	recs := poisonInput()
	d := start(t, doublingApp("dlq"), streamtest.Partitions("numbers", 3), streamtest.Partitions("dead", 2),
		streamtest.AppConfig(stream.Config{
			OnDeserializationError: stream.DeadLetterTo("dead"),
			OnProcessingError:      stream.DeadLetterTo("dead"),
		}))
	if at, err := pipePoison(d, recs); err != nil {
		t.Fatalf("record %d: %v", at, err)
	}
	checkRecords(t, "doubled", streamtest.Output(d, "doubled", serde.String, serde.Int64).ReadAll(), wantDoubled(recs))

	dead := streamtest.Output(d, "dead", serde.Bytes, serde.Bytes).ReadAll()
	offsets := map[int32]int64{}
	n := 0
	for _, p := range recs {
		part := partitionOf(serde.String, p.key, 3)
		off := offsets[part]
		offsets[part]++
		if !p.undecodable && !p.panics {
			continue
		}
		if n >= len(dead) {
			t.Fatalf("%d dead letters, want more", len(dead))
		}
		r := dead[n]
		n++
		if string(r.Key) != p.key || !bytes.Equal(r.Value, p.value) || r.Timestamp != p.ts {
			t.Fatalf("dead letter %d: %q=%q at %d, want the original %q=%q at %d", n, r.Key, r.Value, r.Timestamp, p.key, p.value, p.ts)
		}
		if r.Partition != partitionOf(serde.String, p.key, 2) {
			t.Fatalf("dead letter %d in partition %d, want the key's", n, r.Partition)
		}
		kind, cause := "deserialization", "cannot deserialize record value"
		if p.panics {
			kind, cause = "processing", "negative number"
		}
		for h, want := range map[string]string{
			"eddy.error.kind": kind,
			"eddy.topic":      "numbers",
			"eddy.partition":  fmt.Sprint(part),
			"eddy.offset":     fmt.Sprint(off),
			"eddy.task":       fmt.Sprintf("0_%d", part),
		} {
			if got, ok := r.Header(h); !ok || string(got) != want {
				t.Fatalf("dead letter %d: header %s = %q, want %q", n, h, got, want)
			}
		}
		if got, _ := r.Header("eddy.error"); !strings.Contains(string(got), cause) {
			t.Fatalf("dead letter %d: eddy.error %q does not say %q", n, got, cause)
		}
	}
	if n != len(dead) {
		t.Fatalf("%d dead letters, want %d", len(dead), n)
	}
	if got := d.Stats().BadRecords; got != int64(n) {
		t.Fatalf("BadRecords = %d, want %d", got, n)
	}
}

func TestBadRecordsLoggedAndSkipped(t *testing.T) {
	recs := poisonInput()
	var logs bytes.Buffer
	d := start(t, doublingApp("skip"), streamtest.AppConfig(stream.Config{
		OnDeserializationError: stream.LogAndContinue(),
		OnProcessingError:      stream.LogAndContinue(),
		Logger:                 slog.New(slog.NewTextHandler(&logs, nil)),
	}))
	if at, err := pipePoison(d, recs); err != nil {
		t.Fatalf("record %d: %v", at, err)
	}
	checkRecords(t, "doubled", streamtest.Output(d, "doubled", serde.String, serde.Int64).ReadAll(), wantDoubled(recs))
	bad := 0
	for _, p := range recs {
		if p.undecodable || p.panics {
			bad++
			if want := fmt.Sprintf(" offset=%d ", p.i); !strings.Contains(logs.String(), want) {
				t.Fatalf("no log line for the bad record at offset %d:\n%s", p.i, logs.String())
			}
		}
	}
	if got := strings.Count(logs.String(), "skipping record"); got != bad {
		t.Fatalf("%d log lines, want %d", got, bad)
	}
	if got := d.Stats().BadRecords; got != int64(bad) {
		t.Fatalf("BadRecords = %d, want %d", got, bad)
	}
}

func TestUndecodableKey(t *testing.T) {
	b := stream.NewBuilder("keys")
	table.Count(stream.From(b, "in", serde.Int64, serde.String).GroupByKey(), table.Named("n"))
	d := start(t, b)
	err := streamtest.Input(d, "in", serde.String, serde.String).Pipe("short", "v", time.UnixMilli(baseTS))
	if err == nil || !strings.Contains(err.Error(), "cannot deserialize record key") {
		t.Fatalf("pipe of an undecodable key: %v", err)
	}
}

func TestDriverMisuse(t *testing.T) {
	b := stream.NewBuilder("misuse")
	stream.From(b, "in", serde.String, serde.Int64).To("out", nil, nil)

	if _, err := streamtest.New(b, streamtest.Partitions("in", 0)); err == nil {
		t.Error("zero partitions accepted")
	}
	if _, err := streamtest.New(b, streamtest.AppConfig(stream.Config{OnProcessingError: stream.DeadLetterTo("")})); err == nil {
		t.Error("a dead-letter policy without a topic accepted")
	}
	broken := stream.NewBuilder("broken")
	stream.Map(stream.From(broken, "in", serde.String, serde.Int64), func(k string, v int64) (string, int64) { return k, v }).
		To("out", nil, nil) // no serdes after Map
	if _, err := streamtest.New(broken); err == nil || !strings.Contains(err.Error(), "no value serde") {
		t.Errorf("a topology NewApp refuses: %v", err)
	}
	grouped := stream.NewBuilder("grouped")
	table.Count(stream.GroupBy(stream.From(grouped, "in", serde.String, serde.Int64),
		func(k string, _ int64) string { return k }, serde.String, stream.Named("g")))
	if _, err := streamtest.New(grouped, streamtest.Partitions("grouped-g-repartition", 2)); err == nil {
		t.Error("a partition count for an internal topic accepted")
	}

	d := start(t, b)
	if err := streamtest.Input(d, "out", serde.String, serde.Int64).Pipe("k", 1, time.UnixMilli(0)); !errors.Is(err, streamtest.ErrNotInput) {
		t.Errorf("pipe to an output topic: %v", err)
	}
	if err := streamtest.Input[string, int64](d, "in", nil, serde.Int64).Pipe("k", 1, time.UnixMilli(0)); err == nil {
		t.Error("pipe without a key serde accepted")
	}
	if err := d.AdvanceWallClock(-time.Second); err == nil {
		t.Error("the wall clock went back")
	}
	in := streamtest.Input(d, "in", serde.String, serde.Int64)
	if err := in.Pipe("k", 7, time.UnixMilli(5)); err != nil {
		t.Fatal(err)
	}
	// Reading with the wrong serde stops at the record and says where.
	wrong := streamtest.Output(d, "out", serde.String, serde.Int32)
	if _, ok := wrong.Read(); ok || wrong.Err() == nil || !strings.Contains(wrong.Err().Error(), "out-0 at offset 0") {
		t.Errorf("read with the wrong serde: %v", wrong.Err())
	}
	if wrong.Unread() != 1 {
		t.Errorf("Unread = %d after a failed read, want 1", wrong.Unread())
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := in.Pipe("k", 8, time.UnixMilli(6)); !errors.Is(err, streamtest.ErrClosed) {
		t.Errorf("pipe after close: %v", err)
	}
	if got := streamtest.Output(d, "out", serde.String, serde.Int64).ReadAll(); len(got) != 1 || got[0].Value != 7 {
		t.Errorf("output after close: %+v", got)
	}
}
