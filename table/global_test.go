package table_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/table"
)

func regionOf(_ string, v int64) string { return fmt.Sprint("k", max(v, -v)%9) }

func inRegion(k string, v int64, region int64, found bool) string {
	if !found {
		return fmt.Sprintf("%s:%d in none", k, v)
	}
	return fmt.Sprintf("%s:%d in %d", k, v, region)
}

// Clicks (3 partitions) joined with a global table of regions (2
// partitions: no co-partitioning needed) on a key computed from the
// click's value. Every task sees every region, as piped so far.
func TestJoinGlobalMatchesReplay(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testJoinGlobal(t) })
	t.Run("leveldb", func(t *testing.T) { testJoinGlobal(t, streamtest.StateDir(t.TempDir())) })
}

func testJoinGlobal(t *testing.T, opts ...streamtest.Option) {
	b := stream.NewBuilder("global")
	regions := table.Global(b, "regions", serde.String, serde.Int64, table.Named("regions"))
	clicks := stream.From(b, "clicks", serde.String, serde.Int64)
	table.JoinGlobal(clicks, regions, regionOf, func(k string, v, r int64) string { return inRegion(k, v, r, true) },
		serde.String, table.Named("inner")).To("inner-out", nil, nil)
	table.LeftJoinGlobal(clicks, regions, regionOf, inRegion, serde.String, table.Named("left")).To("left-out", nil, nil)
	d := newDriver(t, b, append(opts, streamtest.Partitions("clicks", 3), streamtest.Partitions("regions", 2),
		streamtest.Partitions("inner-out", 2), streamtest.Partitions("left-out", 2))...)
	evs := randomEvents(41, 3000,
		eventMix{topic: "clicks", weight: 3, keys: 20, tombstones: 8, keyless: 5},
		eventMix{topic: "regions", weight: 1, keys: 10, tombstones: 20, keyless: 3})
	pipeEvents(t, d, evs)

	regionAt := map[string]int64{}
	var wantInner, wantLeft []rec[string]
	var dropped int64
	for _, e := range evs {
		switch {
		case e.topic == "regions" && e.keyless: // ignored
		case e.topic == "regions" && e.tombstone:
			delete(regionAt, e.key)
		case e.topic == "regions":
			regionAt[e.key] = e.value
		case e.tombstone:
			dropped++
		default: // a keyless click joins on the key its value gives
			r, ok := regionAt[regionOf(e.key, e.value)]
			out := rec[string]{Partition: partitionOf(e.key, 2), Key: e.key, TS: e.ts, Value: inRegion(e.key, e.value, r, ok)}
			if ok {
				wantInner = append(wantInner, out)
			}
			wantLeft = append(wantLeft, out)
		}
	}
	checkOutput(t, d, "inner-out", serde.String, wantInner)
	checkOutput(t, d, "left-out", serde.String, wantLeft)
	for _, name := range []string{"inner", "left"} {
		if got := table.DroppedRecords(d.App(), name); got != dropped {
			t.Errorf("%s dropped %d records, want %d", name, got, dropped)
		}
	}
	for k := range 10 {
		key := fmt.Sprint("k", k)
		want, wok := regionAt[key]
		got, ok, err := table.LookupGlobal(d.App(), regions, key)
		if err != nil || ok != wok || got != want {
			t.Errorf("LookupGlobal(%s) = %d, %v, %v; want %d, %v", key, got, ok, err, want, wok)
		}
	}
}

// A record of the global topic that its serdes cannot read meets the
// app's deserialization policy, like a task's input record.
func TestGlobalTablePoisonPill(t *testing.T) {
	build := func() (*stream.Builder, table.GlobalTable[string, int64]) {
		b := stream.NewBuilder("global-poison")
		regions := table.Global(b, "regions", serde.String, serde.Int64)
		table.JoinGlobal(stream.From(b, "clicks", serde.String, serde.Int64), regions, regionOf,
			func(k string, v, r int64) int64 { return r }, serde.Int64).To("out", nil, nil)
		return b, regions
	}
	b, regions := build()
	d := newDriver(t, b, streamtest.AppConfig(stream.Config{OnDeserializationError: stream.LogAndContinue()}))
	in := streamtest.Input(d, "regions", serde.String, serde.Int64)
	if err := in.PipeRaw([]byte("k1"), []byte("not eight bytes"), timeOf(baseTS)); err != nil {
		t.Fatalf("a skipped poison pill: %v", err)
	}
	if err := in.Pipe("k1", 7, timeOf(baseTS+1)); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := table.LookupGlobal(d.App(), regions, "k1"); v != 7 || !ok || err != nil {
		t.Fatalf("k1 = %d, %v, %v; want 7", v, ok, err)
	}
	if n := d.Stats().BadRecords; n != 1 {
		t.Fatalf("%d bad records, want 1", n)
	}

	b, _ = build()
	d = newDriver(t, b)
	err := streamtest.Input(d, "regions", serde.String, serde.Int64).PipeRaw([]byte("k1"), []byte("bad"), timeOf(baseTS))
	var perr *stream.ProcessingError
	if !errors.As(err, &perr) || perr.Topic != "regions" || perr.Offset != 0 {
		t.Fatalf("a failing poison pill: %v, want a ProcessingError at regions-0 offset 0", err)
	}
}

// The global table's store name must not collide, nor its topic be read
// twice.
func TestGlobalTableDeclarationErrors(t *testing.T) {
	b := stream.NewBuilder("global-dup")
	table.Global(b, "regions", serde.String, serde.Int64)
	table.Global(b, "regions", serde.String, serde.Int64, table.Named("again"))
	if err := b.Err(); err == nil {
		t.Fatal("two global tables on one topic: no error")
	}
	b = stream.NewBuilder("global-and-stream")
	table.Global(b, "regions", serde.String, serde.Int64)
	stream.From(b, "regions", serde.String, serde.Int64).To("copy", nil, nil)
	if _, err := streamtest.New(b); err == nil {
		t.Fatal("a topic read as a stream and as a global table: no error")
	}
}

// A topology may feed its own global table: what it writes to the topic
// reaches every task's view of the table.
func TestGlobalTableFedByTheTopology(t *testing.T) {
	b := stream.NewBuilder("global-fed")
	regions := table.Global(b, "regions", serde.String, serde.Int64)
	stream.From(b, "region-updates", serde.String, serde.Int64).To("regions", nil, nil)
	table.JoinGlobal(stream.From(b, "clicks", serde.String, serde.Int64), regions, regionOf,
		func(_ string, _ int64, r int64) int64 { return r }, serde.Int64).To("out", nil, nil)
	d := newDriver(t, b, streamtest.Partitions("regions", 2), streamtest.Partitions("clicks", 3))
	if err := streamtest.Input(d, "region-updates", serde.String, serde.Int64).PipeAt("k4", 40, baseTS); err != nil {
		t.Fatal(err)
	}
	if err := streamtest.Input(d, "clicks", serde.String, serde.Int64).PipeAt("u1", -13, baseTS+1); err != nil {
		t.Fatal(err)
	}
	got := streamtest.Output(d, "out", serde.String, serde.Int64).ReadAll()
	if len(got) != 1 || got[0].Key != "u1" || got[0].Value != 40 {
		t.Fatalf("out: %+v, want u1=40", got)
	}
}
