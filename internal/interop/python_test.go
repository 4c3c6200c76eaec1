package interop

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Debian's python3-kafka is installed for the system interpreter; the
// python3 first on PATH may be another one without it.
const pyInterpreter = "/usr/bin/python3"

const pyClientScript = "py/kafka_python_client.py"

func pyRequire(t *testing.T) {
	extRequire(t, "kafka-python for "+pyInterpreter, exec.Command(pyInterpreter, "-c", "import kafka"))
}

type pyProduced struct {
	Acked      [][3]int64 `json:"acked"`       // [sequence, partition, offset]
	APIVersion string     `json:"api_version"` // the broker version kafka-python detected
}

type pyConsumed struct {
	Records   [][4]any         `json:"records"`   // [partition, offset, key, value]
	Committed map[string]int64 `json:"committed"` // partition → offset, as the client reads it back
}

// pyRecord is one record the consumer returned, decoded from pyConsumed.
type pyRecord struct {
	partition int32
	offset    int64
	key       string
	value     string
}

func (c pyConsumed) records(t *testing.T) []pyRecord {
	t.Helper()
	out := make([]pyRecord, 0, len(c.Records))
	for _, r := range c.Records {
		p, okP := r[0].(float64)
		o, okO := r[1].(float64)
		k, okK := r[2].(string)
		v, okV := r[3].(string)
		if !okP || !okO || !okK || !okV {
			t.Fatalf("kafka-python printed record %v, want [partition, offset, key, value]", r)
		}
		out = append(out, pyRecord{partition: int32(p), offset: int64(o), key: k, value: v})
	}
	return out
}

func pyRun(t *testing.T, out any, args ...string) {
	t.Helper()
	stdout := extRun(t, 45*time.Second, "", nil, pyInterpreter, append([]string{pyClientScript}, args...)...)
	if err := json.Unmarshal([]byte(stdout), out); err != nil {
		t.Fatalf("kafka-python %s printed %q: %v", args[0], extTail(stdout), err)
	}
}

// TestKafkaPythonProduceConsumeCommit sends records with kafka-python's
// KafkaProducer(acks='all'), checks the offsets it was given hold its
// records, then consumes in a group with auto-commit off and explicit
// commit(), in two runs: the second resumes from the first one's commits, so
// together they must see every record exactly once, and the broker's
// committed offsets must match what each run consumed.
func TestKafkaPythonProduceConsumeCommit(t *testing.T) {
	pyRequire(t)
	tb := startBroker(t, "")
	const topic, group, n = "py-topic", "py-group", 2000
	const partitions int32 = 3
	tb.createTopic(t, topic, partitions, nil)

	var produced pyProduced
	pyRun(t, &produced, "produce", tb.Addr, topic, strconv.Itoa(n))
	t.Logf("kafka-python detected broker version %s", produced.APIVersion)
	if len(produced.Acked) != n {
		t.Fatalf("kafka-python acknowledged %d records, want %d", len(produced.Acked), n)
	}
	stored := extStoredValues(t, tb, topic, partitions)
	for _, a := range produced.Acked {
		seq, p, o := a[0], int32(a[1]), a[2]
		if got, want := stored[p][o], fmt.Sprintf("py-%d", seq); got != want {
			t.Fatalf("record %d acknowledged at %d@%d, which holds %q", seq, p, o, got)
		}
	}
	stored = nil

	seen := map[string]pyRecord{}
	consume := func(want int) pyConsumed {
		t.Helper()
		var c pyConsumed
		pyRun(t, &c, "consume", tb.Addr, topic, group, strconv.Itoa(want))
		for _, r := range c.records(t) {
			if prev, dup := seen[r.value]; dup {
				t.Fatalf("record %q consumed twice: at %d@%d and %d@%d", r.value, prev.partition, prev.offset, r.partition, r.offset)
			}
			if want := "py-" + r.key[len("key"):]; r.value != want {
				t.Errorf("record %q has key %q", r.value, r.key)
			}
			seen[r.value] = r
		}
		return c
	}

	first := consume(n / 2)
	if got := len(first.Records); got < n/2 || got == n {
		t.Fatalf("first run consumed %d records, want from %d to fewer than %d", got, n/2, n)
	}
	t.Logf("first run consumed %d records", len(first.Records))
	// The first run committed, for each partition, one past the last record
	// it consumed there.
	next := map[int32]int64{}
	for _, r := range first.records(t) {
		next[r.partition] = max(next[r.partition], r.offset+1)
	}
	pyCheckCommitted(t, tb, group, topic, partitions, next, first)

	second := consume(n - len(first.Records))
	if len(seen) != n {
		t.Fatalf("the two runs consumed %d distinct records, want %d", len(seen), n)
	}
	for p := range partitions {
		part, err := tb.Broker.Partition(topic, p)
		mustf(t, err, "partition %s/%d", topic, p)
		_, hw, _ := part.Offsets()
		next[p] = hw
	}
	pyCheckCommitted(t, tb, group, topic, partitions, next, second)
}

// pyCheckCommitted compares the broker's committed offsets of the group with
// want, and with what kafka-python itself read back after committing. A
// partition absent from want may be uncommitted or committed at 0 (assigned,
// nothing consumed yet).
func pyCheckCommitted(t *testing.T, tb *testBroker, group, topic string, partitions int32, want map[int32]int64, c pyConsumed) {
	t.Helper()
	for p := range partitions {
		got, _, ok := tb.Broker.Groups().Committed(group, topic, p)
		w, expected := want[p]
		switch {
		case expected && (!ok || got != w):
			t.Errorf("group %s committed %s/%d = %d (present %v), want %d", group, topic, p, got, ok, w)
		case !expected && ok && got != 0:
			t.Errorf("group %s committed %s/%d = %d, but consumed nothing there", group, topic, p, got)
		}
		if clientView, seen := c.Committed[strconv.Itoa(int(p))]; ok && (!seen || clientView != got) {
			t.Errorf("kafka-python read committed %s/%d = %d (present %v), the broker holds %d", topic, p, clientView, seen, got)
		}
	}
}
