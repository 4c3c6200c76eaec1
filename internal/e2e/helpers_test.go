package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/internal/partition"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
)

// testTimeout bounds one test's broker calls and waits, so that a hang
// fails the test rather than the package's run. The slowest test takes
// about 13 s on Apache Kafka on a quiet 2-core machine; a loaded CI
// machine may be several times slower.
const testTimeout = 2 * time.Minute

// baseTS is the event time the random inputs start around (Unix ms).
const baseTS = int64(1_700_000_000_000)

// cluster is one test's broker on the backend EDDY_E2E_BACKEND chooses,
// reached only through a broker.Client. Tests name topics and apps by
// short names; topic and builder turn them into the names on the broker,
// which carry a prefix unique to the test and the run.
type cluster struct {
	t      *testing.T
	ctx    context.Context
	client broker.Client
	prefix string
}

// newCluster opens the test's broker and creates topics, given as short
// name → partition count.
func newCluster(t *testing.T, topics map[string]int32) *cluster {
	t.Helper()
	client := openClient(t)
	// After openClient, so that the cleanups run before the client closes.
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	c := &cluster{t: t, ctx: ctx, client: client, prefix: namePrefix(t)}
	names := make([]string, 0, len(topics))
	for name := range topics {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := c.client.CreateTopics(ctx, broker.TopicSpec{Name: c.topic(name), Partitions: topics[name]}); err != nil {
			t.Fatalf("create topic %s: %v", name, err)
		}
	}
	return c
}

// topic returns the name on the broker of the test's topic name.
func (c *cluster) topic(name string) string { return c.prefix + name }

// app returns the application id on the broker of the test's app name.
func (c *cluster) app(name string) string { return c.prefix + name }

// builder starts the topology of the test's app name.
func (c *cluster) builder(app string) *stream.Builder { return stream.NewBuilder(c.app(app)) }

// partitions returns the partition count of the test's topic name.
func (c *cluster) partitions(name string) int32 {
	c.t.Helper()
	return c.partitionsOn(c.topic(name))
}

// partitionsOn returns the partition count of a topic named on the broker.
func (c *cluster) partitionsOn(topic string) int32 {
	c.t.Helper()
	n, err := c.client.Partitions(c.ctx, topic)
	if err != nil {
		c.t.Fatalf("partitions of %s: %v", topic, err)
	}
	return n
}

// input is one record written to an input topic.
type input struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       string
	Value     int64
	TS        int64 // unique within a test: it tells where an output came from
	Tombstone bool
}

// origin names the input partition a record was read from.
func (in input) origin() string { return fmt.Sprintf("%s-%d", in.Topic, in.Partition) }

// generator makes random input records whose timestamps are unique across
// everything it generates, so that an output record's timestamp (which
// stateless operators keep) tells which input partition it came from.
type generator struct {
	r    *rand.Rand
	used map[int64]bool
	made int
}

func newGenerator(seed uint64) *generator {
	return &generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), used: map[int64]bool{}}
}

// records returns n records for topic over keys k0..k(keys-1), values in
// [-100, 100), timestamps mostly increasing but often earlier than the
// previous one; with tombstones, about one in ten has no value.
func (g *generator) records(topic string, n, keys int, tombstones bool) []input {
	out := make([]input, n)
	for i := range out {
		ts := baseTS + int64(g.made)*100 + g.r.Int64N(2_000) - 1_000
		for g.used[ts] {
			ts++
		}
		g.used[ts] = true
		g.made++
		out[i] = input{Topic: topic, Key: fmt.Sprintf("k%d", g.r.IntN(keys)), TS: ts}
		if tombstones && g.r.IntN(10) == 0 {
			out[i].Tombstone = true
		} else {
			out[i].Value = g.r.Int64N(200) - 100
		}
	}
	return out
}

// produce writes records in order, each to the partition Kafka's default
// partitioner picks for its key, in batches of up to 200 records, and
// fills in their partitions and offsets.
func (c *cluster) produce(recs []input) {
	c.t.Helper()
	type tp struct {
		topic string
		part  int32
	}
	byPartition := map[tp][]int{}
	var order []tp
	for i := range recs {
		r := &recs[i]
		kb, _ := serde.String.Serialize(r.Topic, r.Key)
		r.Partition = partition.ForKey(kb, c.partitions(r.Topic))
		k := tp{r.Topic, r.Partition}
		if _, ok := byPartition[k]; !ok {
			order = append(order, k)
		}
		byPartition[k] = append(byPartition[k], i)
	}
	for _, k := range order {
		idx := byPartition[k]
		for len(idx) > 0 {
			n := min(len(idx), 200)
			b := batch.NewBuilder(batch.BuilderOptions{})
			for _, i := range idx[:n] {
				r := recs[i]
				kb, _ := serde.String.Serialize(r.Topic, r.Key)
				var vb []byte
				if !r.Tombstone {
					vb, _ = serde.Int64.Serialize(r.Topic, r.Value)
				}
				b.Add(batch.Record{Key: kb, Value: vb, Timestamp: r.TS})
			}
			data, err := b.Build(nil)
			if err != nil {
				c.t.Fatalf("build batch for %s-%d: %v", k.topic, k.part, err)
			}
			base, err := c.client.Append(c.ctx, c.topic(k.topic), k.part, data)
			if err != nil {
				c.t.Fatalf("append to %s-%d: %v", k.topic, k.part, err)
			}
			for j, i := range idx[:n] {
				recs[i].Offset = base + int64(j)
			}
			idx = idx[n:]
		}
	}
}

// origins maps each input's timestamp to its input partition.
func origins(recs ...[]input) map[int64]string {
	m := map[int64]string{}
	for _, rs := range recs {
		for _, r := range rs {
			m[r.TS] = r.origin()
		}
	}
	return m
}

// running is an app started by cluster.start.
type running struct {
	c      *cluster
	app    *stream.App
	appID  string
	topics []string // every topic the app reads, internal ones included
	passes int      // consecutive caught-up checks that prove it is done
	done   chan error
	stop   func() error
}

// start runs the app built by b on the cluster; cfg's Client is set, and
// its StateDir and CommitInterval default to a temporary directory and
// 20 ms. The app is stopped at the end of the test if the test did not.
func (c *cluster) start(b *stream.Builder, cfg stream.Config) *running {
	c.t.Helper()
	cfg.Client = c.client
	if cfg.StateDir == "" {
		cfg.StateDir = c.t.TempDir()
	}
	if cfg.CommitInterval == 0 {
		cfg.CommitInterval = 20 * time.Millisecond
	}
	// Read the topology before Run: planning walks the same graph.
	subs := b.Internal().Topo.Subtopologies()
	r := &running{c: c, appID: b.Internal().AppID, passes: len(subs) + 1, done: make(chan error, 1)}
	for _, st := range subs {
		r.topics = append(r.topics, st.Topics...)
	}
	app, err := stream.NewApp(b, cfg)
	if err != nil {
		c.t.Fatalf("new app: %v", err)
	}
	r.app = app
	ctx, cancel := context.WithCancel(c.ctx)
	go func() { r.done <- app.Run(ctx) }()
	var once sync.Once
	var runErr error
	r.stop = func() error {
		once.Do(func() {
			cancel()
			runErr = <-r.done
		})
		return runErr
	}
	c.t.Cleanup(func() {
		if err := r.stop(); err != nil {
			c.t.Errorf("app %s: %v", r.appID, err)
		}
	})
	select {
	case <-app.Ready():
	case err := <-r.done:
		r.done <- err
		c.t.Fatalf("app %s stopped before it was ready: %v", r.appID, err)
	case <-c.ctx.Done():
		c.t.Fatalf("app %s not ready: %v", r.appID, c.ctx.Err())
	}
	return r
}

// awaitCaughtUp waits until the app has committed every record of every
// topic it reads. A check that finds everything committed proves that the
// inputs of a sub-topology are done only once the sub-topologies writing
// its repartition topics were found done in an earlier check (their output
// is flushed before their commit), so it takes one check more than there
// are sub-topologies, in a row.
func (r *running) awaitCaughtUp() {
	r.c.t.Helper()
	for streak := 0; streak < r.passes; {
		if r.caughtUp() {
			streak++
			continue
		}
		streak = 0
		select {
		case err := <-r.done:
			r.done <- err
			r.c.t.Fatalf("app %s stopped before catching up: %v", r.appID, err)
		case <-r.c.ctx.Done():
			r.c.t.Fatalf("app %s did not catch up: %v", r.appID, r.c.ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (r *running) caughtUp() bool {
	c := r.c
	for _, topic := range r.topics {
		n := c.partitionsOn(topic)
		tps := make([]broker.TopicPartition, n)
		for p := range n {
			tps[p] = broker.TopicPartition{Topic: topic, Partition: p}
		}
		committed, err := c.client.CommittedOffsets(c.ctx, r.appID, tps)
		if err != nil {
			c.t.Fatalf("committed offsets of %s: %v", topic, err)
		}
		for _, o := range committed {
			end, err := c.client.ListOffset(c.ctx, topic, o.Partition, broker.Latest)
			if err != nil {
				c.t.Fatalf("end of %s-%d: %v", topic, o.Partition, err)
			}
			if max(o.Offset, 0) < end {
				return false
			}
		}
	}
	return true
}

// stopClean stops the app and fails the test if Run returned an error.
func (r *running) stopClean() {
	r.c.t.Helper()
	if err := r.stop(); err != nil {
		r.c.t.Fatalf("app %s: %v", r.appID, err)
	}
}

// runToEnd runs the app until it has processed all its input, then stops it.
func (c *cluster) runToEnd(b *stream.Builder, cfg stream.Config) {
	c.t.Helper()
	r := c.start(b, cfg)
	r.awaitCaughtUp()
	r.stopClean()
}

// rec is an output record, read back or expected.
type rec[K, V any] struct {
	Partition int32
	Key       K
	Value     V
	TS        int64
	Tombstone bool
}

// readTopic returns every record of every partition of the test's topic
// name, partition by partition in offset order.
func readTopic[K, V any](c *cluster, name string, ks serde.Serde[K], vs serde.Serde[V]) []rec[K, V] {
	c.t.Helper()
	topic := c.topic(name)
	var out []rec[K, V]
	for p := range c.partitionsOn(topic) {
		end, err := c.client.ListOffset(c.ctx, topic, p, broker.Latest)
		if err != nil {
			c.t.Fatalf("end of %s-%d: %v", topic, p, err)
		}
		for off := int64(0); off < end; {
			res, err := c.client.Fetch(c.ctx, topic, p, off, 1<<20, 0)
			if err != nil {
				c.t.Fatalf("fetch %s-%d at %d: %v", topic, p, off, err)
			}
			if len(res.Batches) == 0 {
				c.t.Fatalf("fetch %s-%d at %d: nothing, end is %d", topic, p, off, end)
			}
			for data := res.Batches; len(data) > 0; {
				one, rest, err := batch.Next(data)
				if err != nil {
					c.t.Fatalf("%s-%d: %v", topic, p, err)
				}
				it, err := batch.NewIterator(one)
				if err != nil {
					c.t.Fatalf("%s-%d: %v", topic, p, err)
				}
				for it.Next() {
					r := it.Record()
					if r.Offset < off {
						continue
					}
					out = append(out, decode(c.t, topic, p, r, ks, vs))
				}
				if err := it.Err(); err != nil {
					c.t.Fatalf("%s-%d: %v", topic, p, err)
				}
				off = max(off, it.Header().LastOffset()+1)
				data = rest
			}
		}
	}
	return out
}

func decode[K, V any](t *testing.T, topic string, p int32, r batch.Record, ks serde.Serde[K], vs serde.Serde[V]) rec[K, V] {
	t.Helper()
	k, err := ks.Deserialize(topic, r.Key)
	if err != nil {
		t.Fatalf("%s-%d at %d: key: %v", topic, p, r.Offset, err)
	}
	out := rec[K, V]{Partition: p, Key: k, TS: r.Timestamp, Tombstone: r.Value == nil}
	if r.Value != nil {
		if out.Value, err = vs.Deserialize(topic, r.Value); err != nil {
			t.Fatalf("%s-%d at %d: value: %v", topic, p, r.Offset, err)
		}
	}
	return out
}

// partitionOf is Kafka's default partition of a serialized key.
func partitionOf[K any](ks serde.Serde[K], key K, n int32) int32 {
	b, err := ks.Serialize("", key)
	if err != nil {
		panic(fmt.Sprintf("serialize key %v: %v", key, err))
	}
	return partition.ForKey(b, n)
}

// checkStream compares a topic's records with the expected ones. Records
// of one input partition that land on one output partition keep their
// order, whatever else the output interleaves with them (other input
// partitions, other topics), so both sides are split by (output partition,
// input partition) — the latter found from the record's unique timestamp —
// and compared in order. Records that went through a repartition topic
// keep their order only per partition of that topic: via names it.
func checkStream[K, V any](t *testing.T, topic string, got, want []rec[K, V], origin map[int64]string, via ...func(rec[K, V]) string) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: the test expects no records; it checks nothing", topic)
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d records, want %d", topic, len(got), len(want))
	}
	split := func(rs []rec[K, V], side string) map[string][]rec[K, V] {
		m := map[string][]rec[K, V]{}
		for _, r := range rs {
			o, ok := origin[r.TS]
			if !ok {
				t.Fatalf("%s: %s record %+v has a timestamp no input has", topic, side, r)
			}
			k := fmt.Sprintf("%s-%d from %s", topic, r.Partition, o)
			for _, f := range via {
				k += " via " + f(r)
			}
			m[k] = append(m[k], r)
		}
		return m
	}
	g, w := split(got, "output"), split(want, "expected")
	for k, ws := range w {
		gs := g[k]
		for i := range min(len(gs), len(ws)) {
			if !reflect.DeepEqual(gs[i], ws[i]) {
				t.Fatalf("%s record %d: got %+v, want %+v", k, i, gs[i], ws[i])
			}
		}
		if len(gs) != len(ws) {
			t.Fatalf("%s: %d records, want %d", k, len(gs), len(ws))
		}
	}
	for k, gs := range g {
		if _, ok := w[k]; !ok {
			t.Fatalf("%s: %d records, want none (first %+v)", k, len(gs), gs[0])
		}
	}
}

// lastValues folds a table's update stream: the last value of each key,
// a tombstone deleting it.
func lastValues[K comparable, V any](rs []rec[K, V]) map[K]V {
	m := map[K]V{}
	for _, r := range rs {
		if r.Tombstone {
			delete(m, r.Key)
		} else {
			m[r.Key] = r.Value
		}
	}
	return m
}

// checkTable compares a table's contents with the expected ones.
func checkTable[K comparable, V any](t *testing.T, what string, got, want map[K]V) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: the test expects an empty table; it checks nothing", what)
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: key %v missing, want %v", what, k, w)
		} else if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: key %v is %v, want %v", what, k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: key %v is %v, want it absent", what, k, g)
		}
	}
}

// keysOf returns the distinct keys of the inputs.
func keysOf(recs []input) []string {
	seen := map[string]bool{}
	var keys []string
	for _, r := range recs {
		if !seen[r.Key] {
			seen[r.Key] = true
			keys = append(keys, r.Key)
		}
	}
	sort.Strings(keys)
	return keys
}

// multiset counts strings, for comparing side effects whose order across
// partitions is not defined.
func multiset(xs []string) map[string]int {
	m := map[string]int{}
	for _, x := range xs {
		m[x]++
	}
	return m
}

// collector gathers side effects (Peek, ForEach) from the app's workers.
type collector struct {
	mu  sync.Mutex
	got []string
}

func (c *collector) add(s string) {
	c.mu.Lock()
	c.got = append(c.got, s)
	c.mu.Unlock()
}

func (c *collector) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}
