package partition_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eddy-streams/eddy/internal/partition"
)

// TestAgreesWithGoClients checks ForKey against two independent
// implementations of Kafka's default partitioner, franz-go's
// StickyKeyPartitioner and sarama's Murmur2 partitioner, over random keys and
// partition counts. The seed changes every run and is printed on failure.
func TestAgreesWithGoClients(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0x5eed))

	franz := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	saramaHash := sarama.NewMurmur2Partitioner("t")

	const trials = 20000
	for range trials {
		key := make([]byte, randomKeyLength(rng)) // non-nil even when empty: keyless records take another path in both clients
		for i := range key {
			key[i] = byte(rng.Uint32())
		}
		n := randomPartitionCount(rng)

		got := partition.ForKey(key, n)
		if want := int32(franz.Partition(&kgo.Record{Key: key}, int(n))); got != want {
			t.Fatalf("seed %d: ForKey(%x, %d) = %d, franz-go gives %d", seed, key, n, got, want)
		}
		want, err := saramaHash.Partition(&sarama.ProducerMessage{Topic: "t", Key: sarama.ByteEncoder(key)}, n)
		if err != nil {
			t.Fatalf("sarama: %v", err)
		}
		if got != want {
			t.Fatalf("seed %d: ForKey(%x, %d) = %d, sarama gives %d", seed, key, n, got, want)
		}
	}
}

// randomKeyLength favours short keys, where the tail handling lives, but
// reaches past a few words.
func randomKeyLength(rng *rand.Rand) int {
	if rng.IntN(4) == 0 {
		return rng.IntN(300)
	}
	return rng.IntN(24)
}

// randomPartitionCount mixes the small counts real topics have with counts
// up to math.MaxInt32, where the masked hash itself is the partition.
func randomPartitionCount(rng *rand.Rand) int32 {
	switch rng.IntN(3) {
	case 0:
		return 1 + rng.Int32N(64)
	case 1:
		return 1 + rng.Int32N(100000)
	default:
		return 1 + rng.Int32N(math.MaxInt32)
	}
}
