package e2e

import (
	"testing"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
)

// runningSum forwards each key's running sum, kept in its store; a
// tombstone resets the key (deletes it from the store) and is forwarded.
type runningSum struct {
	pc   *stream.ProcessorContext[string, int64]
	sums stream.KeyValueStore[string, int64]
}

func (p *runningSum) Init(pc *stream.ProcessorContext[string, int64]) error {
	raw, err := pc.Store("running-sums")
	if err != nil {
		return err
	}
	p.pc, p.sums = pc, stream.TypedStore(raw, serde.String, serde.Int64)
	return nil
}

func (p *runningSum) Process(r stream.Record[string, int64]) error {
	if r.Tombstone {
		if err := p.sums.Delete(r.Key); err != nil {
			return err
		}
		return p.pc.Forward(r)
	}
	sum, _, err := p.sums.Get(r.Key)
	if err != nil {
		return err
	}
	sum += r.Value
	if err := p.sums.Put(r.Key, sum); err != nil {
		return err
	}
	return p.pc.Forward(stream.Record[string, int64]{Key: r.Key, Value: sum, Timestamp: r.Timestamp, Headers: r.Headers})
}

func (p *runningSum) Close() error { return nil }

func TestProcessWithStore(t *testing.T) {
	t.Parallel()
	c := newCluster(t, map[string]int32{"in": 3, "running": 2})
	in := newGenerator(31).records("in", 3000, 12, true)
	c.produce(in)

	b := c.builder("e2e-process")
	sums := stream.Process(stream.From(b, c.topic("in"), serde.String, serde.Int64),
		func() stream.Processor[string, int64, string, int64] { return &runningSum{} },
		stream.Named("running-sum"), stream.WithStore("running-sums"), stream.Serdes(serde.String, serde.Int64))
	sums.To(c.topic("running"), nil, nil)
	r := c.start(b, stream.Config{})
	r.awaitCaughtUp()

	var want []rec[string, int64]
	final := map[string]int64{}
	for _, x := range in { // one key's records are all in one partition, in order
		out := rec[string, int64]{Key: x.Key, TS: x.TS, Tombstone: x.Tombstone, Partition: partitionOf(serde.String, x.Key, 2)}
		if x.Tombstone {
			delete(final, x.Key)
		} else {
			final[x.Key] += x.Value
			out.Value = final[x.Key]
		}
		want = append(want, out)
	}
	// The store, read while the app runs, holds each key's current sum.
	got := map[string]int64{}
	for _, k := range keysOf(in) {
		kb, _ := serde.String.Serialize("", k)
		p := partitionOf(serde.String, k, 3)
		st, err := r.app.Store("running-sums", p)
		if err != nil {
			t.Fatalf("store of partition %d: %v", p, err)
		}
		vb, ok, err := st.Get(kb)
		if err != nil {
			t.Fatalf("get %s: %v", k, err)
		}
		if ok {
			if got[k], err = serde.Int64.Deserialize("", vb); err != nil {
				t.Fatalf("stored sum of %s: %v", k, err)
			}
		}
	}
	checkTable(t, "running-sums store", got, final)
	r.stopClean()
	checkStream(t, "running", readTopic(c, "running", serde.String, serde.Int64), want, origins(in))
}
