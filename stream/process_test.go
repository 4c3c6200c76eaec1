package stream_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/clienttest"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
)

// procEnv is an embedded broker with its in-process client, for the
// Process tests.
type procEnv struct {
	t      *testing.T
	ctx    context.Context
	client broker.Client
}

func newProcEnv(t *testing.T) *procEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	t.Cleanup(cancel)
	br := clienttest.OpenBroker(t)
	return &procEnv{t: t, ctx: ctx, client: br.Embedded()}
}

func (e *procEnv) createTopic(name string, partitions int32) {
	e.t.Helper()
	if err := e.client.CreateTopics(e.ctx, broker.TopicSpec{Name: name, Partitions: partitions}); err != nil {
		e.t.Fatal(err)
	}
}

// produce appends records (key and value already serialized) to one
// partition as one batch.
func (e *procEnv) produce(topic string, partition int32, recs []batch.Record) {
	e.t.Helper()
	b := batch.NewBuilder(batch.BuilderOptions{})
	for _, r := range recs {
		b.Add(r)
	}
	data, err := b.Build(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.client.Append(e.ctx, topic, partition, data); err != nil {
		e.t.Fatal(err)
	}
}

// readAll returns every record of a topic partition, in offset order.
func (e *procEnv) readAll(topic string, partition int32) []batch.Record {
	e.t.Helper()
	return clienttest.ReadAll(e.ctx, e.t, e.client, topic, partition)
}

// start runs an app in the background; the returned stop cancels it and
// returns Run's error.
func (e *procEnv) start(b *stream.Builder, stateDir string) (*stream.App, func() error) {
	e.t.Helper()
	return e.startWith(b, stream.Config{StateDir: stateDir, CommitInterval: 20 * time.Millisecond})
}

// startWith is start with cfg (its Client is the environment's).
func (e *procEnv) startWith(b *stream.Builder, cfg stream.Config) (*stream.App, func() error) {
	e.t.Helper()
	cfg.Client = e.client
	app, err := stream.NewApp(b, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	select {
	case <-app.Ready():
	case err := <-done:
		cancel()
		e.t.Fatalf("app stopped before it was ready: %v", err)
	}
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	e.t.Cleanup(func() { _ = stop() })
	return app, stop
}

// eventually polls cond until it holds or the test's time runs out.
func (e *procEnv) eventually(what string, cond func() bool) {
	e.t.Helper()
	for !cond() {
		if e.ctx.Err() != nil {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func int64Bytes(v int64) []byte {
	b, _ := serde.Int64.Serialize("", v)
	return b
}

// summary is what sumProcessor forwards: a running sum after each record,
// a snapshot of every sum at each stream-time punctuation, and at each
// wall-clock punctuation how many records the task has seen.
type summary struct {
	Kind      string // "update", "stream" or "wall"
	Task      string
	Topic     string
	Partition int32
	Offset    int64
	Key       string
	Sum       int64
	At        int64
	Sums      map[string]int64
	Seen      int
}

type sumProcessor struct {
	pc   *stream.ProcessorContext[string, summary]
	sums stream.KeyValueStore[string, int64]
	seen int
}

func (p *sumProcessor) Init(pc *stream.ProcessorContext[string, summary]) error {
	p.pc = pc
	raw, err := pc.Store("sums")
	if err != nil {
		return err
	}
	p.sums = stream.TypedStore(raw, serde.String, serde.Int64)
	if err := pc.Schedule(100*time.Millisecond, stream.StreamTime, p.snapshot); err != nil {
		return err
	}
	return pc.Schedule(20*time.Millisecond, stream.WallClock, p.tick)
}

func (p *sumProcessor) Process(r stream.Record[string, int64]) error {
	sum, _, err := p.sums.Get(r.Key)
	if err != nil {
		return err
	}
	sum += r.Value
	if err := p.sums.Put(r.Key, sum); err != nil {
		return err
	}
	p.seen++
	return p.pc.Forward(stream.Record[string, summary]{Key: r.Key, Timestamp: r.Timestamp, Value: summary{
		Kind: "update", Task: p.pc.TaskID(), Topic: p.pc.RecordTopic(), Partition: p.pc.RecordPartition(),
		Offset: p.pc.RecordOffset(), Key: r.Key, Sum: sum}})
}

func (p *sumProcessor) snapshot(ts int64) error {
	all := map[string]int64{}
	if err := p.sums.ForEach(func(k string, v int64) error { all[k] = v; return nil }); err != nil {
		return err
	}
	return p.pc.Forward(stream.Record[string, summary]{Key: p.pc.TaskID(), Timestamp: ts,
		Value: summary{Kind: "stream", Task: p.pc.TaskID(), Partition: p.pc.Partition(), At: ts, Sums: all,
			Topic: p.pc.RecordTopic(), Offset: p.pc.RecordOffset()}})
}

func (p *sumProcessor) tick(ts int64) error {
	return p.pc.Forward(stream.Record[string, summary]{Key: p.pc.TaskID(), Timestamp: p.pc.StreamTime(),
		Value: summary{Kind: "wall", Task: p.pc.TaskID(), Partition: p.pc.Partition(), Topic: p.pc.RecordTopic(),
			Offset: p.pc.RecordOffset(), At: ts, Seen: p.seen}})
}

func (p *sumProcessor) Close() error { return nil }

// TestProcessStoreAndPunctuations runs a processor that keeps per-key sums
// in a store and reports on both clocks, and checks every output against
// sums computed directly from the input.
func TestProcessStoreAndPunctuations(t *testing.T) {
	env := newProcEnv(t)
	const partitions, perPartition, spacing = 3, 300, 10
	env.createTopic("events", partitions)
	env.createTopic("summaries", 1)
	type event struct {
		key   string
		value int64
		ts    int64
	}
	input := make([][]event, partitions)
	for p := range int32(partitions) {
		var recs []batch.Record
		for i := range perPartition {
			ev := event{key: fmt.Sprintf("k%d", (i*7+int(p))%10), value: int64(i%13 + 1 + int(p)), ts: 10_000 + int64(i*spacing)}
			input[p] = append(input[p], ev)
			recs = append(recs, batch.Record{Key: []byte(ev.key), Value: int64Bytes(ev.value), Timestamp: ev.ts})
		}
		env.produce("events", p, recs)
	}

	b := stream.NewBuilder("sums-app")
	events := stream.From(b, "events", serde.String, serde.Int64)
	out := stream.Process(events, func() stream.Processor[string, int64, string, summary] { return &sumProcessor{} },
		stream.Named("summarize"), stream.WithStore("sums"), stream.Serdes(serde.String, serde.JSON[summary]()))
	out.To("summaries", nil, nil)
	if !strings.Contains(b.Describe(), "summarize (stores: [sums])") {
		t.Fatalf("topology does not show the processor's store:\n%s", b.Describe())
	}

	app, stop := env.start(b, t.TempDir())
	decode := func(recs []batch.Record) []summary {
		var out []summary
		for _, r := range recs {
			s, err := serde.JSON[summary]().Deserialize("summaries", r.Value)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	// Wall-clock punctuations keep firing once the input is exhausted:
	// wait until each task's reports it has seen its whole partition.
	env.eventually("every task to report all its records", func() bool {
		done := map[int32]bool{}
		for _, s := range decode(env.readAll("summaries", 0)) {
			if s.Kind == "wall" && s.Seen == perPartition {
				done[s.Partition] = true
			}
		}
		return len(done) == partitions
	})

	want := make([]map[string]int64, partitions)
	for p := range int32(partitions) {
		want[p] = map[string]int64{}
		for _, ev := range input[p] {
			want[p][ev.key] += ev.value
		}
		// The store, read while the app runs, holds the final sums.
		raw, err := app.Store("sums", p)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		if err := stream.TypedStore(raw, serde.String, serde.Int64).ForEach(func(k string, v int64) error { got[k] = v; return nil }); err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, want[p]) {
			t.Errorf("partition %d: store holds %v, want %v", p, got, want[p])
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	updates := make([][]summary, partitions)
	snapshots := make([][]summary, partitions)
	ticks := make([][]summary, partitions)
	for _, s := range decode(env.readAll("summaries", 0)) {
		if s.Task != fmt.Sprintf("0_%d", s.Partition) {
			t.Fatalf("summary %+v: task id does not match its partition", s)
		}
		switch s.Kind {
		case "update":
			updates[s.Partition] = append(updates[s.Partition], s)
		case "stream":
			snapshots[s.Partition] = append(snapshots[s.Partition], s)
		case "wall":
			ticks[s.Partition] = append(ticks[s.Partition], s)
		default:
			t.Fatalf("unexpected summary %+v", s)
		}
	}
	for p := range int32(partitions) {
		// One update per record, in offset order, with the running sum and
		// the record's coordinates.
		if len(updates[p]) != perPartition {
			t.Fatalf("partition %d: %d updates, want %d", p, len(updates[p]), perPartition)
		}
		running := map[string]int64{}
		for i, ev := range input[p] {
			running[ev.key] += ev.value
			u := updates[p][i]
			if u.Topic != "events" || u.Partition != p || u.Offset != int64(i) || u.Key != ev.key || u.Sum != running[ev.key] {
				t.Fatalf("partition %d record %d: update %+v, want key %s sum %d at events-%d@%d", p, i, u, ev.key, running[ev.key], p, i)
			}
		}
		// A stream-time punctuation every 100 ms of event time: at each
		// boundary stream time crossed after the first record, with the
		// sums of every record up to that time.
		var wantAt []int64
		for at := input[p][0].ts + 100; at <= input[p][perPartition-1].ts; at += 100 {
			wantAt = append(wantAt, at)
		}
		var gotAt []int64
		for _, s := range snapshots[p] {
			gotAt = append(gotAt, s.At)
			prefix := map[string]int64{}
			for _, ev := range input[p] {
				if ev.ts <= s.At {
					prefix[ev.key] += ev.value
				}
			}
			if !maps.Equal(s.Sums, prefix) {
				t.Fatalf("partition %d: snapshot at %d is %v, want %v", p, s.At, s.Sums, prefix)
			}
			// The record that advanced stream time is still current.
			if at := (s.At - input[p][0].ts) / spacing; s.Topic != "events" || s.Offset != at {
				t.Fatalf("partition %d: punctuation at %d sees record %s@%d, want events@%d", p, s.At, s.Topic, s.Offset, at)
			}
		}
		if !slices.Equal(gotAt, wantAt) {
			t.Fatalf("partition %d: stream-time punctuations at %v, want %v", p, gotAt, wantAt)
		}
		// Wall-clock punctuations: outside any record, counting up to the
		// whole partition.
		last := -1
		for _, s := range ticks[p] {
			if s.Topic != "" || s.Offset != -1 {
				t.Fatalf("partition %d: a punctuation sees record %s@%d", p, s.Topic, s.Offset)
			}
			if s.Seen < last {
				t.Fatalf("partition %d: wall-clock ticks went from %d to %d records", p, last, s.Seen)
			}
			last = s.Seen
		}
		if last != perPartition {
			t.Fatalf("partition %d: last wall-clock tick saw %d records, want %d", p, last, perPartition)
		}
	}
}

// lifecycle records what the processors of one app did, across tasks.
type lifecycle struct {
	mu        sync.Mutex
	instances []*countProcessor
}

func (l *lifecycle) supplier() stream.Processor[string, string, string, int64] {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := &countProcessor{l: l, index: len(l.instances)}
	l.instances = append(l.instances, p)
	return p
}

func (l *lifecycle) snapshot() []countProcessor {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]countProcessor, len(l.instances))
	for i, p := range l.instances {
		out[i] = countProcessor{index: p.index, task: p.task, partition: p.partition, processed: p.processed,
			closes: p.closes, foreign: p.foreign}
	}
	return out
}

// countProcessor counts records per key in a memory store and remembers
// which task it ran in and what it saw.
type countProcessor struct {
	l      *lifecycle
	index  int
	pc     *stream.ProcessorContext[string, int64]
	counts stream.KeyValueStore[string, int64]

	// Guarded by l.mu (the test reads them while the app runs).
	task      string
	partition int32
	processed int
	closes    int
	foreign   int // records from another partition than the task's
}

func (p *countProcessor) Init(pc *stream.ProcessorContext[string, int64]) error {
	raw, err := pc.Store("counts")
	if err != nil {
		return err
	}
	p.l.mu.Lock()
	p.pc, p.task, p.partition = pc, pc.TaskID(), pc.Partition()
	p.l.mu.Unlock()
	p.counts = stream.TypedStore(raw, serde.String, serde.Int64)
	return nil
}

func (p *countProcessor) Process(r stream.Record[string, string]) error {
	n, _, err := p.counts.Get(r.Key)
	if err != nil {
		return err
	}
	if err := p.counts.Put(r.Key, n+1); err != nil {
		return err
	}
	p.l.mu.Lock()
	p.processed++
	if p.pc.RecordPartition() != p.partition {
		p.foreign++
	}
	p.l.mu.Unlock()
	return nil
}

func (p *countProcessor) Close() error {
	p.l.mu.Lock()
	p.closes++
	p.l.mu.Unlock()
	return nil
}

// TestProcessOneInstancePerTaskCloseAndRestore checks that each task gets
// its own processor, that Close runs once per processor when the app
// stops, and that a restarted app with no local state finds its memory
// store rebuilt from the changelog.
func TestProcessOneInstancePerTaskCloseAndRestore(t *testing.T) {
	env := newProcEnv(t)
	const partitions, perRun = 4, 50
	env.createTopic("words", partitions)
	want := map[int32]map[string]int64{}
	produceRun := func(run int) {
		for p := range int32(partitions) {
			if want[p] == nil {
				want[p] = map[string]int64{}
			}
			var recs []batch.Record
			for i := range perRun {
				k := fmt.Sprintf("w%d", (i*(run+2)+int(p))%7)
				want[p][k]++
				recs = append(recs, batch.Record{Key: []byte(k), Value: []byte("x"), Timestamp: int64(run*1000 + i)})
			}
			env.produce("words", p, recs)
		}
	}
	runApp := func(run int) *lifecycle {
		var l lifecycle
		b := stream.NewBuilder("lifecycle-app")
		words := stream.From(b, "words", serde.String, serde.String)
		stream.Process(words, l.supplier, stream.WithMemoryStore("counts"))
		app, stop := env.start(b, t.TempDir()) // no local state: restore from the changelog
		env.eventually(fmt.Sprintf("run %d to process every record", run), func() bool {
			s := l.snapshot()
			if len(s) != partitions {
				return false
			}
			for _, p := range s {
				if p.processed < perRun {
					return false
				}
			}
			return true
		})
		for _, p := range l.snapshot() {
			if p.closes != 0 {
				t.Fatalf("run %d: processor %d closed while the app runs", run, p.index)
			}
		}
		for p := range int32(partitions) {
			raw, err := app.Store("counts", p)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			if err := stream.TypedStore(raw, serde.String, serde.Int64).ForEach(func(k string, v int64) error { got[k] = v; return nil }); err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, want[p]) {
				t.Fatalf("run %d partition %d: store holds %v, want %v", run, p, got, want[p])
			}
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		return &l
	}

	for run := range 2 {
		produceRun(run)
		l := runApp(run)
		tasks := map[string]bool{}
		for _, p := range l.snapshot() {
			if p.closes != 1 {
				t.Errorf("run %d: processor %d (task %s) closed %d times, want 1", run, p.index, p.task, p.closes)
			}
			if p.processed != perRun || p.foreign != 0 {
				t.Errorf("run %d: processor %d (task %s) processed %d records (%d of other partitions), want %d of its own",
					run, p.index, p.task, p.processed, p.foreign, perRun)
			}
			if p.task != fmt.Sprintf("0_%d", p.partition) || tasks[p.task] {
				t.Errorf("run %d: processor %d has task %q (partition %d); tasks so far %v", run, p.index, p.task, p.partition, tasks)
			}
			tasks[p.task] = true
		}
		if len(tasks) != partitions {
			t.Fatalf("run %d: processors ran in tasks %v, want one per partition (%d)", run, tasks, partitions)
		}
	}
}

// failingProcessor fails or panics in Init as told, and checks the
// context's guards.
type failingProcessor struct{ mode string }

func (p *failingProcessor) Init(pc *stream.ProcessorContext[string, string]) error {
	switch p.mode {
	case "error":
		return errors.New("cannot connect to the pricing service")
	case "panic":
		panic("boom in init")
	case "undeclared-store":
		_, err := pc.Store("nope")
		return err
	case "bad-interval":
		return pc.Schedule(time.Microsecond, stream.WallClock, func(int64) error { return nil })
	}
	return nil
}

func (p *failingProcessor) Process(stream.Record[string, string]) error { return nil }
func (p *failingProcessor) Close() error                                { return nil }

func TestProcessInitFailuresStopTheApp(t *testing.T) {
	env := newProcEnv(t)
	env.createTopic("in", 1)
	for _, tc := range []struct{ mode, want string }{
		{"error", "cannot connect to the pricing service"},
		{"panic", "boom in init"},
		{"undeclared-store", `no store "nope"`},
		{"bad-interval", "below a millisecond"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			b := stream.NewBuilder("failing-" + tc.mode)
			in := stream.From(b, "in", serde.String, serde.String)
			stream.Process(in, func() stream.Processor[string, string, string, string] { return &failingProcessor{tc.mode} },
				stream.Named("fragile"), stream.WithStore("state"))
			app, err := stream.NewApp(b, stream.Config{Client: env.client, StateDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			err = app.Run(env.ctx)
			if err == nil || !strings.Contains(err.Error(), "processor fragile") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run: %v; want an error naming processor fragile and %q", err, tc.want)
			}
		})
	}
}

func TestProcessBuildErrors(t *testing.T) {
	noop := func() stream.Processor[string, string, string, string] { return &failingProcessor{} }
	cases := map[string]struct {
		build func(b *stream.Builder)
		want  string
	}{
		"serdes of other types": {func(b *stream.Builder) {
			in := stream.From(b, "in", serde.String, serde.String)
			stream.Process(in, noop, stream.Named("p"), stream.Serdes(serde.String, serde.Int64))
		}, "does not match the processor's output types (string, string)"},
		"one store declared twice": {func(b *stream.Builder) {
			in := stream.From(b, "in", serde.String, serde.String)
			stream.Process(in, noop, stream.Named("p1"), stream.WithStore("s"))
			stream.Process(in, noop, stream.Named("p2"), stream.WithMemoryStore("s"))
		}, `two stores are named "s"`},
		"nil supplier": {func(b *stream.Builder) {
			in := stream.From(b, "in", serde.String, serde.String)
			stream.Process[string, string, string, string](in, nil, stream.Named("p"))
		}, "nil processor supplier"},
		"writing output without serdes": {func(b *stream.Builder) {
			in := stream.From(b, "in", serde.String, serde.String)
			stream.Process(in, noop, stream.Named("p")).To("out", nil, nil)
		}, "no value serde was given"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := stream.NewBuilder("build-errors")
			tc.build(b)
			err := b.Err()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Err() = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// TestProcessNamesAndStores checks what a processor adds to the topology:
// its name (from Named or As), its stores and their changelog topics.
func TestProcessNamesAndStores(t *testing.T) {
	b := stream.NewBuilder("shop")
	in := stream.From(b, "orders", serde.String, serde.String)
	noop := func() stream.Processor[string, string, string, string] { return &failingProcessor{} }
	stream.Process(in, noop, stream.As[string, string]("enrich"), stream.WithStore("prices"), stream.WithMemoryStore("recent"))
	stream.Process(in, noop)
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	d := b.Describe()
	for _, want := range []string{"Processor: enrich (stores: [prices, recent])", "Processor: PROCESSOR-"} {
		if !strings.Contains(d, want) {
			t.Errorf("topology lacks %q:\n%s", want, d)
		}
	}
	topo := b.Internal().Topo
	for name, inMemory := range map[string]bool{"prices": false, "recent": true} {
		spec := topo.Stores[name]
		if spec == nil || spec.Changelog != "shop-"+name+"-changelog" || spec.InMemory != inMemory {
			t.Errorf("store %s: spec %+v", name, spec)
		}
		if topo.InternalTopics["shop-"+name+"-changelog"] == nil {
			t.Errorf("store %s: no changelog topic", name)
		}
	}
}
