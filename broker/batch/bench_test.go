package batch

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchRecords is 256 records of 1 KiB JSON-like values with short keys
// and one header, a typical produce batch.
func benchRecords() ([]Record, int64) {
	rng := rand.New(rand.NewPCG(41, 42))
	recs := make([]Record, 256)
	var total int64
	for i := range recs {
		recs[i] = Record{
			Timestamp: 1_700_000_000_000 + int64(i),
			Key:       []byte(fmt.Sprintf("key-%06d", i)),
			Value:     jsonLike(rng, 1024),
			Headers:   []RecordHeader{{Key: "trace", Value: []byte("0123456789abcdef")}},
		}
		total += int64(len(recs[i].Key) + len(recs[i].Value))
	}
	return recs, total
}

func BenchmarkBuild(b *testing.B) {
	recs, total := benchRecords()
	for _, codec := range []Codec{None, Zstd} {
		b.Run(codec.String(), func(b *testing.B) {
			bl := NewBuilder(BuilderOptions{Codec: codec})
			var out []byte
			b.SetBytes(total)
			b.ReportAllocs()
			for b.Loop() {
				bl.Reset()
				for _, r := range recs {
					bl.Add(r)
				}
				var err error
				if out, err = bl.Build(out[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkIterate(b *testing.B) {
	recs, total := benchRecords()
	for _, codec := range []Codec{None, Zstd} {
		b.Run(codec.String(), func(b *testing.B) {
			batch := build(b, BuilderOptions{Codec: codec}, recs)
			var it Iterator
			b.SetBytes(total)
			b.ReportAllocs()
			for b.Loop() {
				if err := it.Reset(batch); err != nil {
					b.Fatal(err)
				}
				n := 0
				for it.Next() {
					n += len(it.Record().Value)
				}
				if it.Err() != nil || n != 256*1024 {
					b.Fatalf("read %d value bytes: %v", n, it.Err())
				}
			}
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	recs, total := benchRecords()
	batch := build(b, BuilderOptions{}, recs)
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Validate(batch, true); err != nil {
			b.Fatal(err)
		}
	}
}

var words = []string{"click", "view", "purchase", "user", "session", "page", "home", "cart",
	"checkout", "search", "mobile", "desktop", "referrer", "campaign", "europe", "america"}

// jsonLike returns n bytes of a JSON-looking event: repeated field names,
// words from a small vocabulary and random numbers, so codecs behave as on
// real payloads rather than on noise.
func jsonLike(rng *rand.Rand, n int) []byte {
	b := fmt.Appendf(nil, `{"id":%d,"user":"user-%d","event":"%s","tags":[`,
		rng.Int64N(1e12), rng.IntN(100_000), words[rng.IntN(len(words))])
	for len(b) < n-2 {
		b = fmt.Appendf(b, `"%s-%d",`, words[rng.IntN(len(words))], rng.IntN(1000))
	}
	b = append(b[:n-2], ']', '}')
	return b
}
