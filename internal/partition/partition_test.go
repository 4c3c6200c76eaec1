package partition_test

import (
	"encoding/hex"
	"math"
	"testing"

	"github.com/eddy-streams/eddy/internal/partition"
)

// Kafka's own vectors: UtilsTest.testMurmur2 in the Java client.
func TestMurmur2MatchesKafkaUtilsTest(t *testing.T) {
	for key, want := range map[string]int32{
		"21":                         -973932308,
		"foobar":                     -790332482,
		"a-little-bit-long-string":   -985981536,
		"a-little-bit-longer-string": -1486304829,
		"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
		"abc": 479470107,
	} {
		if got := partition.Murmur2([]byte(key)); got != want {
			t.Errorf("Murmur2(%q) = %d, want %d", key, got, want)
		}
	}
}

// javaPartitionCounts are the partition counts of javaVectors' columns.
var javaPartitionCounts = [8]int32{1, 2, 3, 7, 12, 100, 1000, math.MaxInt32}

// javaVectors were printed by the Java client itself (kafka-clients 4.0.0,
// Utils.murmur2 and BuiltInPartitioner.partitionForKey) with
// testdata/java_vectors.jsh. The keys cover every tail length (0 to 3 bytes
// after the last full word), bytes above 0x7f (signed in Java) and UTF-8.
var javaVectors = []struct {
	keyHex     string
	murmur2    int32
	partitions [8]int32
}{
	{"", 275646681, [8]int32{0, 1, 0, 2, 9, 81, 681, 275646681}},
	{"f0", -1219306261, [8]int32{0, 1, 1, 4, 7, 87, 387, 928177387}},
	{"f015", -347901754, [8]int32{0, 0, 1, 5, 10, 94, 894, 1799581894}},
	{"f0153a", 1076766330, [8]int32{0, 0, 0, 3, 6, 30, 330, 1076766330}},
	{"f0153a5f", 1250536942, [8]int32{0, 0, 1, 4, 10, 42, 942, 1250536942}},
	{"f0153a5f84", 475157585, [8]int32{0, 1, 2, 0, 5, 85, 585, 475157585}},
	{"f0153a5f84a9", 828360580, [8]int32{0, 0, 1, 5, 4, 80, 580, 828360580}},
	{"f0153a5f84a9ce", -1434191377, [8]int32{0, 1, 1, 6, 7, 71, 271, 713292271}},
	{"f0153a5f84a9cef3", -1859095900, [8]int32{0, 0, 1, 5, 4, 48, 748, 288387748}},
	{"f0153a5f84a9cef318", -99004791, [8]int32{0, 1, 2, 5, 5, 57, 857, 2048478857}},
	{"80db3691ec47a2fd58b30e69c41f7ad5", -779091087, [8]int32{0, 1, 2, 4, 5, 61, 561, 1368392561}},
	{"ff0c192633404d5a6774818e9ba8b5c2cfdce9f603101d2a3744515e6b7885", 1571585256, [8]int32{0, 0, 0, 3, 0, 56, 256, 1571585256}},
	{"757365722d3432", 1459644460, [8]int32{0, 0, 1, 1, 4, 60, 460, 1459644460}},
	{"68c3a96c6c6f2077c3b6726c6420e29c93", -1290846696, [8]int32{0, 0, 2, 3, 8, 52, 952, 856636952}},
}

func TestMatchesJavaClient(t *testing.T) {
	for _, v := range javaVectors {
		key, err := hex.DecodeString(v.keyHex)
		if err != nil {
			t.Fatalf("bad key hex %q: %v", v.keyHex, err)
		}
		if got := partition.Murmur2(key); got != v.murmur2 {
			t.Errorf("Murmur2(%s) = %d, Java gives %d", v.keyHex, got, v.murmur2)
		}
		for i, n := range javaPartitionCounts {
			if got := partition.ForKey(key, n); got != v.partitions[i] {
				t.Errorf("ForKey(%s, %d) = %d, Java gives %d", v.keyHex, n, got, v.partitions[i])
			}
		}
	}
}

func TestNilKeyHashesLikeEmpty(t *testing.T) {
	if got, want := partition.Murmur2(nil), partition.Murmur2([]byte{}); got != want {
		t.Errorf("Murmur2(nil) = %d, Murmur2(empty) = %d", got, want)
	}
}

func TestForKeyRejectsNonPositiveCounts(t *testing.T) {
	for _, n := range []int32{0, -1, math.MinInt32} {
		if got := partition.ForKey([]byte("k"), n); got != -1 {
			t.Errorf("ForKey(k, %d) = %d, want -1", n, got)
		}
	}
}

func TestForKeyStaysInRange(t *testing.T) {
	key := make([]byte, 8)
	for i := range 5000 {
		key[0], key[1], key[2] = byte(i), byte(i>>8), byte(i*7)
		for _, n := range []int32{1, 2, 5, 64, 1 << 20, math.MaxInt32} {
			if p := partition.ForKey(key, n); p < 0 || p >= n {
				t.Fatalf("ForKey(%x, %d) = %d, outside [0, %d)", key, n, p, n)
			}
		}
	}
}
