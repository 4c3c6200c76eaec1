package e2e

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/window"
)

// Stream–stream joins on the broker. Which records meet depends on the
// order the task reads its two inputs in, which fetch timing decides, so
// the tests feed the join in epochs that make the outcome independent of
// it: an epoch's records span 20 s of event time and the grace period is
// 2 minutes, so within an epoch nothing is late and no window closes,
// whatever the interleaving — every pair within the window joins. Epochs
// are an hour apart: the next epoch's first record in a task closes every
// window of the one before, emitting its unmatched records. Late records
// are produced once a later epoch has been processed, and are late
// whatever the order.

const (
	epochSpan = int64(20_000)
	epochGap  = int64(3_600_000)
	rekeyMod  = 40
)

// joinWindow is the window of every test here: right records from 1 s
// before a left record to 2 s after it.
var joinWindow = window.JoinWindows(2 * time.Second).Before(time.Second).Grace(2 * time.Minute)

func inJoinWindow(lts, rts int64) bool { return rts >= lts-1_000 && rts <= lts+2_000 }

// epochs makes the input records of the tests: values unique across
// everything it makes, so that every output names the records it came
// from.
type epochs struct {
	r    *rand.Rand
	next int64
}

func newEpochs(seed uint64) *epochs { return &epochs{r: rand.New(rand.NewPCG(seed, seed+99))} }

// make returns n records for topic over keys k0..k(keys-1), timestamps
// in [from, from+epochSpan), about one in twenty a tombstone if asked.
func (e *epochs) make(topic string, n, keys int, from int64, tombstones bool) []input {
	out := make([]input, n)
	for i := range out {
		e.next++
		out[i] = input{Topic: topic, Key: fmt.Sprint("k", e.r.IntN(keys)), Value: e.next, TS: from + e.r.Int64N(epochSpan)}
		if tombstones && e.r.IntN(20) == 0 {
			out[i].Tombstone = true
		}
	}
	return out
}

// seen is a record as the join sees it.
type seen struct {
	key       string
	value, ts int64
}

// seenBy returns the records of recs that reach the join: re-keyed by
// value if rekey (Map drops tombstones), else as they are (tombstones are
// dropped by the join itself and do not appear).
func seenBy(recs []input, rekey bool) []seen {
	var out []seen
	for _, r := range recs {
		if r.Tombstone {
			continue
		}
		key := r.Key
		if rekey {
			key = fmt.Sprint("k", r.Value%rekeyMod)
		}
		out = append(out, seen{key: key, value: r.Value, ts: r.TS})
	}
	return out
}

func rekeyByValue(_ string, v int64) (string, int64) { return fmt.Sprint("k", v%rekeyMod), v }

func format(lv int64, lok bool, rv int64, rok bool) string {
	l, r := "-", "-"
	if lok {
		l = fmt.Sprint("L", lv)
	}
	if rok {
		r = fmt.Sprint("R", rv)
	}
	return l + "+" + r
}

// expectJoin is what a join of kind ("inner", "left", "outer") emits for
// records fed in epochs: every pair within the window, and the records of
// the kept sides that have none, if their epoch has been closed (their
// timestamp is before closedBefore). Records are "key|value|timestamp",
// sorted.
func expectJoin(kind string, lefts, rights []seen, closedBefore int64) []string {
	var out []string
	matched := map[int64]bool{}
	for _, l := range lefts {
		for _, r := range rights {
			if l.key == r.key && inJoinWindow(l.ts, r.ts) {
				out = append(out, fmt.Sprintf("%s|%s|%d", l.key, format(l.value, true, r.value, true), max(l.ts, r.ts)))
				matched[l.value], matched[r.value] = true, true
			}
		}
	}
	unmatched := func(recs []seen, isLeft bool) {
		for _, x := range recs {
			if !matched[x.value] && x.ts < closedBefore {
				out = append(out, fmt.Sprintf("%s|%s|%d", x.key, format(x.value, isLeft, x.value, !isLeft), x.ts))
			}
		}
	}
	if kind != "inner" {
		unmatched(lefts, true)
	}
	if kind == "outer" {
		unmatched(rights, false)
	}
	slices.Sort(out)
	return out
}

// checkJoined compares the join's output topic with the expected records,
// each on its key's partition.
func checkJoined(t *testing.T, c *cluster, topic string, want []string) {
	t.Helper()
	n := c.partitions(topic)
	var got []string
	for _, r := range readTopic(c, topic, serde.String, serde.String) {
		if p := partitionOf(serde.String, r.Key, n); r.Partition != p {
			t.Fatalf("%s: %+v on partition %d, its key's is %d", topic, r, r.Partition, p)
		}
		got = append(got, fmt.Sprintf("%s|%s|%d", r.Key, r.Value, r.TS))
	}
	slices.Sort(got)
	if len(want) == 0 {
		t.Fatalf("%s: the test expects nothing; it checks nothing", topic)
	}
	if !slices.Equal(got, want) {
		var missing, extra []string
		for _, w := range want {
			if !slices.Contains(got, w) {
				missing = append(missing, w)
			}
		}
		for _, g := range got {
			if !slices.Contains(want, g) {
				extra = append(extra, g)
			}
		}
		t.Fatalf("%s: %d records, want %d; missing %v; unexpected %v", topic, len(got), len(want), head(missing), head(extra))
	}
}

func head(s []string) []string { return s[:min(len(s), 8)] }

// lateInputs returns n records for topic timestamped inside an epoch that
// has closed, on keys the closing epoch also had.
func (e *epochs) late(topic string, n, keys int, closedEpoch int64) []input {
	return e.make(topic, n, keys, closedEpoch, false)
}

// An inner join whose right side is re-keyed: its records go through a
// repartition topic sized like the left input (3 partitions, the right
// topic has 2), and meet the left records of their new key. Tombstones
// on the left are dropped and counted; late records are counted.
func TestWindowedInnerJoinOfARekeyedStream(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"views": 3, "clicks": 2, "out": 2})
	e := newEpochs(61)
	b := c.builder("e2e-windowed-inner")
	views := stream.From(b, c.topic("views"), serde.String, serde.Int64)
	clicks := stream.Map(stream.From(b, c.topic("clicks"), serde.String, serde.Int64), rekeyByValue, stream.Serdes(serde.String, serde.Int64))
	window.Join(views, clicks, joinWindow, func(_ string, l, r int64) string { return format(l, true, r, true) },
		serde.String, window.Named("view-clicks")).To(c.topic("out"), nil, nil)
	r := c.start(b, stream.Config{})

	var lefts, rights []input
	for epoch := range 2 {
		from := baseTS + int64(epoch)*epochGap
		l, rr := e.make("views", 500, rekeyMod, from, true), e.make("clicks", 500, 60, from, false)
		c.produce(l)
		c.produce(rr)
		r.awaitCaughtUp()
		lefts, rights = append(lefts, l...), append(rights, rr...)
	}
	// Every task has seen the second epoch: these are late.
	late := append(e.late("views", 30, rekeyMod, baseTS), e.late("clicks", 30, 60, baseTS)...)
	c.produce(late)
	r.awaitCaughtUp()
	if n := window.JoinLateRecords(r.app, "view-clicks"); n != int64(len(late)) {
		t.Errorf("JoinLateRecords = %d, want %d", n, len(late))
	}
	tombstones := int64(len(lefts) - len(seenBy(lefts, false)))
	if n := window.JoinDroppedRecords(r.app, "view-clicks"); n != tombstones || n == 0 {
		t.Errorf("JoinDroppedRecords = %d, want the %d tombstones", n, tombstones)
	}
	r.stopClean()
	if n := c.partitions("e2e-windowed-inner-view-clicks-right-repartition"); n != 3 {
		t.Errorf("the repartition topic has %d partitions, want 3 (as views)", n)
	}
	checkJoined(t, c, "out", expectJoin("inner", seenBy(lefts, false), seenBy(rights, true), 0))
}

// An outer join of two re-keyed streams of 2 and 3 partitions: both go
// through repartition topics, the right one sized like the left one's.
// Each epoch's unmatched records of both sides come out when the next
// epoch closes their windows; the last epoch's are still waiting.
func TestWindowedOuterJoinOfTwoRekeyedStreams(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"a": 2, "b": 3, "out": 3})
	e := newEpochs(62)
	bl := c.builder("e2e-windowed-outer")
	left := stream.Map(stream.From(bl, c.topic("a"), serde.String, serde.Int64), rekeyByValue, stream.Serdes(serde.String, serde.Int64))
	right := stream.Map(stream.From(bl, c.topic("b"), serde.String, serde.Int64), rekeyByValue, stream.Serdes(serde.String, serde.Int64))
	window.OuterJoin(left, right, joinWindow, func(_ string, l int64, lok bool, r int64, rok bool) string { return format(l, lok, r, rok) },
		serde.String, window.Named("ab"), window.CloseIdleAfter(0)).To(c.topic("out"), nil, nil)
	r := c.start(bl, stream.Config{})

	var lefts, rights []input
	for epoch := range 3 {
		from := baseTS + int64(epoch)*epochGap
		l, rr := e.make("a", 400, 50, from, false), e.make("b", 400, 50, from, false)
		c.produce(l)
		c.produce(rr)
		r.awaitCaughtUp()
		lefts, rights = append(lefts, l...), append(rights, rr...)
	}
	r.stopClean()
	for _, side := range []string{"left", "right"} {
		if n := c.partitions("e2e-windowed-outer-ab-" + side + "-repartition"); n != 2 {
			t.Errorf("the %s repartition topic has %d partitions, want 2", side, n)
		}
	}
	checkJoined(t, c, "out", expectJoin("outer", seenBy(lefts, true), seenBy(rights, true), baseTS+2*epochGap))
}

// A left join across restarts: the app stops, and a new instance with an
// empty state directory restores the three stores from their changelogs —
// the buffered records, the candidates and the join's time. Late records
// produced after the restart are late by the restored time; records of
// the epoch still open join the restored ones and take their candidates
// away; the next epoch emits the restored candidates left.
func TestWindowedLeftJoinAcrossARestart(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"orders": 3, "payments": 3, "out": 2})
	e := newEpochs(63)
	build := func() *stream.Builder {
		b := c.builder("e2e-windowed-left")
		orders := stream.From(b, c.topic("orders"), serde.String, serde.Int64)
		payments := stream.From(b, c.topic("payments"), serde.String, serde.Int64)
		window.LeftJoin(orders, payments, joinWindow, func(_ string, l, r int64, ok bool) string { return format(l, true, r, ok) },
			serde.String, window.Named("paid"), window.CloseIdleAfter(0)).To(c.topic("out"), nil, nil)
		return b
	}
	var lefts, rights []input
	feed := func(r *running, n int, from int64) {
		l, rr := e.make("orders", n, 30, from, false), e.make("payments", n, 30, from, false)
		c.produce(l)
		c.produce(rr)
		r.awaitCaughtUp()
		lefts, rights = append(lefts, l...), append(rights, rr...)
	}
	r := c.start(build(), stream.Config{})
	feed(r, 300, baseTS)
	feed(r, 300, baseTS+epochGap) // closes the first epoch
	r.stopClean()

	r = c.start(build(), stream.Config{StateDir: t.TempDir()})
	for _, store := range []string{"paid-this", "paid-other", "paid-outer"} {
		info, err := r.app.Internal().StoreInfo(store)
		if err != nil {
			t.Fatal(err)
		}
		for p := range info.Partitions {
			if info.RestoredFrom[p] != broker.Earliest || info.Restored[p] == 0 {
				t.Fatalf("%s partition %d: restored %d records from %d, want a full restore", store, p, info.Restored[p], info.RestoredFrom[p])
			}
		}
	}
	late := append(e.late("orders", 20, 30, baseTS), e.late("payments", 20, 30, baseTS)...)
	c.produce(late)
	r.awaitCaughtUp()
	if n := window.JoinLateRecords(r.app, "paid"); n != int64(len(late)) {
		t.Fatalf("after the restore, JoinLateRecords = %d, want %d: the join's time was not restored", n, len(late))
	}
	feed(r, 300, baseTS+epochGap)  // the open epoch goes on
	feed(r, 60, baseTS+2*epochGap) // closes it
	r.stopClean()
	checkJoined(t, c, "out", expectJoin("left", seenBy(lefts, false), seenBy(rights, false), baseTS+2*epochGap))
}
