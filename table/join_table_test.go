package table_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/table"
)

// side is one key's value in a model table, with the timestamp of the
// update that wrote it.
type side struct {
	v  int64
	ts int64
	ok bool
}

// update is a table update as a join receives it: a delete carries the
// task's stream time, as table deletes do.
type update struct {
	key  string
	v    int64
	ts   int64
	put  bool
	left bool
}

// joinModel replays Kafka Streams' KTable–KTable join rules over a
// sequence of updates of both sides.
type joinModel struct {
	topic      string
	mode       string // inner, left or outer
	joiner     func(a int64, aok bool, b int64, bok bool) string
	partitions int32
	a, b       map[string]side
	result     map[string]string
	out        []rec[string]
}

func newJoinModel(topic, mode string, joiner func(int64, bool, int64, bool) string) *joinModel {
	return &joinModel{topic: topic, mode: mode, joiner: joiner, partitions: 2,
		a: map[string]side{}, b: map[string]side{}, result: map[string]string{}}
}

// apply takes one update; streamTime is the task's after the input
// record that caused it.
func (m *joinModel) apply(u update, streamTime int64) {
	this, other := m.a, m.b
	if !u.left {
		this, other = m.b, m.a
	}
	if u.put {
		this[u.key] = side{v: u.v, ts: u.ts, ok: true}
	} else {
		delete(this, u.key)
	}
	a, b := m.a[u.key], m.b[u.key]
	o := other[u.key]
	var keep bool
	switch m.mode {
	case "inner":
		if !o.ok {
			return
		}
		keep = a.ok && b.ok
	case "left":
		if !u.left && !a.ok {
			return
		}
		keep = a.ok
	case "outer":
		keep = a.ok || b.ok
	}
	p := partitionOf(u.key, m.partitions)
	if !keep {
		if _, present := m.result[u.key]; present {
			delete(m.result, u.key)
			m.out = append(m.out, rec[string]{Partition: p, Key: u.key, TS: streamTime, Tombstone: true})
		}
		return
	}
	ts := u.ts
	if o.ok {
		ts = max(ts, o.ts)
	}
	v := m.joiner(a.v, a.ok, b.v, b.ok)
	m.result[u.key] = v
	m.out = append(m.out, rec[string]{Partition: p, Key: u.key, Value: v, TS: ts})
}

func joined(a int64, aok bool, b int64, bok bool) string {
	show := func(v int64, ok bool) string {
		if !ok {
			return "-"
		}
		return fmt.Sprint(v)
	}
	return show(a, aok) + "|" + show(b, bok)
}

func keepLeft(_ string, v int64) bool { return v%3 != 0 }

func negate(_ string, v int64) int64 { return -v }

// joinTopology joins two tables read from topics "left" and "right" in
// every way, plus an inner join of tables derived by Filter and
// MapValues, which the join materializes itself.
func joinTopology() (*stream.Builder, map[string]table.Table[string, string]) {
	b := stream.NewBuilder("tt")
	left := table.From(b, "left", serde.String, serde.Int64, table.Named("left"))
	right := table.From(b, "right", serde.String, serde.Int64, table.Named("right"))
	tables := map[string]table.Table[string, string]{
		"inner": table.Join(left, right, func(a, b int64) string { return joined(a, true, b, true) }, serde.String, table.Named("inner")),
		"left": table.LeftJoin(left, right, func(a, b int64, ok bool) string { return joined(a, true, b, ok) },
			serde.String, table.Named("left-join")),
		"outer": table.OuterJoin(left, right, joined, serde.String, table.Named("outer")),
		"derived": table.Join(left.Filter(keepLeft), table.MapValues(right, negate, serde.Int64),
			func(a, b int64) string { return joined(a, true, b, true) }, serde.String, table.Named("derived"), table.InMemory()),
	}
	for name, t := range tables {
		t.ToStream().To(name+"-out", nil, nil)
	}
	return b, tables
}

// models replays the events through the join rules: the plain joins see
// the tables as read, the derived one the filtered and mapped tables.
func models(evs []event) map[string]*joinModel {
	ms := map[string]*joinModel{
		"inner":   newJoinModel("inner-out", "inner", joined),
		"left":    newJoinModel("left-out", "left", joined),
		"outer":   newJoinModel("outer-out", "outer", joined),
		"derived": newJoinModel("derived-out", "inner", joined),
	}
	times := streamTimes{}
	for _, e := range evs {
		st := times.see(partitionOf(e.key, 3), e.ts)
		u := update{key: e.key, v: e.value, ts: e.ts, put: !e.tombstone, left: e.topic == "left"}
		if !u.put {
			u.ts = st
		}
		for _, name := range []string{"inner", "left", "outer"} {
			ms[name].apply(u, st)
		}
		switch {
		case u.left && u.put && !keepLeft(e.key, u.v):
			u.put = false // Filter turns it into a delete, with its own timestamp
		case !u.left && u.put:
			u.v = negate(e.key, u.v)
		}
		ms["derived"].apply(u, st)
	}
	return ms
}

var tableMixes = []eventMix{
	{topic: "left", weight: 1, keys: 12, tombstones: 20},
	{topic: "right", weight: 1, keys: 12, tombstones: 20},
}

// Every update of either side is joined and forwarded at once (the driver
// flushes after each record): the output sequences, deletes and timestamps
// included, must be the model's.
func TestTableJoinsMatchReplay(t *testing.T) {
	b, tables := joinTopology()
	opts := []streamtest.Option{streamtest.Partitions("left", 3), streamtest.Partitions("right", 3)}
	for name := range tables {
		opts = append(opts, streamtest.Partitions(name+"-out", 2))
	}
	d := newDriver(t, b, opts...)
	evs := randomEvents(21, 3000, tableMixes...)
	pipeEvents(t, d, evs)
	for name, m := range models(evs) {
		checkOutput(t, d, m.topic, serde.String, m.out)
		checkContents(t, d, tables[name], m.result)
	}
}

// With commits at random points, updates between two commits collapse
// and the joins see the other side as of the flush, not of the record:
// each output's last value per key, and each result table, must still be
// the model's final result.
func TestTableJoinsConvergeWithCaching(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4} {
		// Even seeds run with a cache small enough to evict between
		// commits, flushing one store while the others stay dirty.
		cache := 0
		if seed%2 == 0 {
			cache = 4 << 10
		}
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			b, tables := joinTopology()
			d := newDriver(t, b, streamtest.ManualCommit(), streamtest.Partitions("left", 3), streamtest.Partitions("right", 3),
				streamtest.AppConfig(stream.Config{CacheMaxBytes: cache}))
			evs := randomEvents(100+seed, 2000, tableMixes...)
			r := rand.New(rand.NewPCG(seed, 0))
			for len(evs) > 0 {
				n := min(len(evs), 1+r.IntN(60))
				pipeEvents(t, d, evs[:n])
				if err := d.Commit(); err != nil {
					t.Fatal(err)
				}
				evs = evs[n:]
			}
			for name, m := range models(randomEvents(100+seed, 2000, tableMixes...)) {
				got := streamtest.LatestByKey(streamtest.Output(d, m.topic, serde.String, serde.String))
				if !maps.Equal(got, m.result) {
					t.Errorf("%s: last values\n got %v\nwant %v", m.topic, got, m.result)
				}
				checkContents(t, d, tables[name], m.result)
			}
		})
	}
}
