package window_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/stream/streamtest"
	"github.com/eddy-streams/eddy/window"
)

// BenchmarkWindows measures records per second through each kind of
// window, in order with a little disorder, 1000 keys, with commits every
// 10,000 records (as a running app's commit interval would) and LevelDB
// stores.
func BenchmarkWindows(b *testing.B) {
	kinds := []struct {
		name string
		w    window.Windows
	}{
		{"tumbling", window.Tumbling(time.Minute).Grace(5 * time.Second)},
		{"hopping", window.Hopping(time.Minute, 15*time.Second).Grace(5 * time.Second)},
		{"sliding", window.Sliding(10 * time.Second).Grace(5 * time.Second)},
		{"session", window.Session(30 * time.Second).Grace(5 * time.Second)},
	}
	for _, k := range kinds {
		for _, final := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/final=%v", k.name, final), func(b *testing.B) {
				sb := stream.NewBuilder("bench")
				g := stream.From(sb, "in", serde.String, serde.Int64).GroupByKey()
				opts := []window.Option{window.Named("w")}
				if final {
					opts = append(opts, window.EmitFinal())
				}
				window.Count(g, k.w, opts...).ToStream().To("out", nil, nil)
				d, err := streamtest.New(sb, streamtest.StateDir(b.TempDir()), streamtest.ManualCommit())
				if err != nil {
					b.Fatal(err)
				}
				defer d.Close()
				in := streamtest.Input(d, "in", serde.String, serde.Int64)
				keys := make([]string, 1000)
				for i := range keys {
					keys[i] = fmt.Sprintf("user-%04d", i)
				}
				b.ResetTimer()
				for i := range b.N {
					// 2,000 records a second of event time, up to 2 s out of order.
					ts := base + int64(i)/2 - int64(i*7919%4000)/2
					if err := in.PipeAt(keys[i*31%len(keys)], 1, ts); err != nil {
						b.Fatal(err)
					}
					if i%10_000 == 9_999 {
						if err := d.Commit(); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}
