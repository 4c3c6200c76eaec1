package window_test

import (
	"context"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/clienttest"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
	"github.com/eddy-streams/eddy/window"
)

// TestEmitFinalAcrossRestarts runs EmitFinal counts on the embedded broker
// in three parts: the second on an empty state directory (the store comes
// back from its changelog), the third on the second's local state. Windows
// open at each stop are emitted by a later instance, which knows them only
// from the store: every window closed by the end must reach the output
// exactly once, with its final count, and no open window may. The idle
// close is off: the reference closes windows on stream time only, and on a
// slow machine a second without records would close some on the wall clock.
func TestEmitFinalAcrossRestarts(t *testing.T) {
	const grace = 2 * time.Second
	cases := []struct {
		name string
		agg  func(stream.Grouped[string, int64], ...window.Option) table.Table[window.Key[string], int64]
		ref  func([]event) *reference
		evs  []event
	}{{
		name: "hopping",
		agg: func(g stream.Grouped[string, int64], opts ...window.Option) table.Table[window.Key[string], int64] {
			return window.Count(g, window.Hopping(10*time.Second, 3*time.Second).Grace(grace), opts...)
		},
		ref: func(evs []event) *reference {
			return referenceTime(evs, parts, 10*time.Second, 3*time.Second, grace)
		},
		evs: randomEvents(21, 2400, nKeys, 400*time.Millisecond, 10*time.Second, grace, 10*time.Second),
	}, {
		name: "sessions",
		agg: func(g stream.Grouped[string, int64], opts ...window.Option) table.Table[window.Key[string], int64] {
			return window.Count(g, window.Session(3*time.Second).Grace(grace), opts...)
		},
		ref: func(evs []event) *reference { return referenceSessions(evs, parts, 3*time.Second, grace) },
		evs: randomEvents(22, 2400, nKeys, 800*time.Millisecond, 20*time.Second, grace, 4*time.Second),
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			br := clienttest.OpenBroker(t)
			client := br.Embedded()
			if err := client.CreateTopics(ctx, broker.TopicSpec{Name: "payments", Partitions: parts},
				broker.TopicSpec{Name: "final", Partitions: parts}); err != nil {
				t.Fatal(err)
			}
			lateBefore := 0 // the late-record count starts at 0 with each instance
			run := func(stateDir string, upTo int) {
				t.Helper()
				a := startE2E(ctx, t, client, stateDir, "final-"+c.name, func(g stream.Grouped[string, int64]) table.Table[window.Key[string], int64] {
					tbl := c.agg(g, window.Named("counts"), window.EmitFinal(), window.CloseIdleAfter(0), window.Retention(24*time.Hour))
					tbl.ToStream().To("final", nil, nil, window.ByKey[string, int64](serde.String))
					return tbl
				})
				ref := c.ref(c.evs[:upTo])
				a.waitFor(t, counts(ref), len(ref.late)-lateBefore)
				lateBefore = len(ref.late)
				a.close(t)
			}
			thirds := []int{800, 1600, 2400}
			produce(ctx, t, client, "payments", c.evs[:thirds[0]])
			run(t.TempDir(), thirds[0])
			restored := t.TempDir()
			produce(ctx, t, client, "payments", c.evs[thirds[0]:thirds[1]])
			run(restored, thirds[1])
			produce(ctx, t, client, "payments", c.evs[thirds[1]:])
			run(restored, thirds[2])

			ref := c.ref(c.evs)
			want := map[window.Key[string]]int64{}
			for k, w := range ref.windows {
				if w.CloseAt <= ref.time[w.Partition] {
					want[k] = int64(len(w.Values))
				}
			}
			if len(want) == 0 || len(want) == len(ref.windows) {
				t.Fatalf("%d of %d windows closed: the test would not tell", len(want), len(ref.windows))
			}
			got := map[window.Key[string]]int64{}
			for _, kv := range readWindowed(ctx, t, client, "final") {
				if _, dup := got[kv.Key]; dup {
					t.Fatalf("window %v emitted twice", kv.Key)
				}
				got[kv.Key] = kv.Value
			}
			compareMaps(t, "emitted windows", got, want)
		})
	}
}

// windowedCount is a record of a topic of windowed counts.
type windowedCount struct {
	Key       window.Key[string]
	Value     int64
	Partition int32
}

// readWindowed reads every record of a two-partition topic of windowed
// counts, partition by partition.
func readWindowed(ctx context.Context, t *testing.T, client broker.Client, topic string) []windowedCount {
	t.Helper()
	ks := window.KeySerde(serde.String)
	var out []windowedCount
	for p := range int32(parts) {
		for _, r := range clienttest.ReadAll(ctx, t, client, topic, p) {
			k, err := ks.Deserialize(topic, r.Key)
			if err != nil {
				t.Fatal(err)
			}
			n, err := serde.Int64.Deserialize(topic, r.Value)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, windowedCount{Key: k, Value: n, Partition: p})
		}
	}
	return out
}
