package interop

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/internal/partition"
)

// jsDir holds package.json and the kafkajs that scripts/install-test-deps.sh
// installs into its node_modules.
const jsDir = "js"

func jsRequire(t *testing.T) {
	check := exec.Command("node", "-e", "require('kafkajs')")
	check.Dir = jsDir
	extRequire(t, "kafkajs (node and "+filepath.Join(jsDir, "node_modules")+")", check)
}

type jsOutput struct {
	Acked     [][2]int64 `json:"acked"`     // [partition, baseOffset] of each produce response
	Consumed  [][5]any   `json:"consumed"`  // [member, partition, offset, key, value]
	Committed [][2]int64 `json:"committed"` // [partition, offset] read back by the admin client
}

// TestKafkaJSProducerAndConsumerGroup runs kafkajs's producer (acks -1,
// plain and gzip batches) and two kafkajs consumers in one group: every
// record must arrive exactly once, in the partition Java's default
// partitioner picks for its key, at consecutive offsets; each member must
// get a share; and the group's committed offsets must reach the end of each
// partition, as both the broker and kafkajs's admin client see them.
func TestKafkaJSProducerAndConsumerGroup(t *testing.T) {
	jsRequire(t)
	tb := startBroker(t, "")
	const topic, group, n = "js-topic", "js-group", 3000
	const partitions int32 = 4
	tb.createTopic(t, topic, partitions, nil)

	stdout := extRun(t, 50*time.Second, "", []string{"KAFKAJS_NO_PARTITIONER_WARNING=1"},
		"node", filepath.Join(jsDir, "kafkajs_client.js"), tb.Addr, topic, group, strconv.Itoa(n), strconv.Itoa(int(partitions)))
	var out jsOutput
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("kafkajs printed %q: %v", extTail(stdout), err)
	}
	if len(out.Acked) == 0 {
		t.Fatal("kafkajs reported no produce acknowledgements")
	}

	seen := make([]bool, n)
	nextOffset := map[int32]int64{}
	perMember := map[int]int{}
	for _, c := range out.Consumed {
		member, p, offset, key, value := jsConsumedFields(t, c)
		seqText, ok := strings.CutPrefix(value, "js-")
		seq, err := strconv.Atoi(seqText)
		if !ok || err != nil || seq < 0 || seq >= n {
			t.Fatalf("consumed %q at %d@%d, not a record this test wrote", value, p, offset)
		}
		if seen[seq] {
			t.Fatalf("record %q consumed twice (again by member %d at %d@%d)", value, member, p, offset)
		}
		seen[seq] = true
		if want := fmt.Sprintf("key%d", seq); key != want {
			t.Errorf("record %q has key %q, want %q", value, key, want)
		}
		if want := partition.ForKey([]byte(key), partitions); p != want {
			t.Errorf("record %q is in partition %d; Java's default partitioner puts key %q in %d", value, p, key, want)
		}
		if offset != nextOffset[p] {
			t.Fatalf("partition %d: record %q at offset %d, want %d", p, value, offset, nextOffset[p])
		}
		nextOffset[p]++
		perMember[member]++
	}
	if len(out.Consumed) != n {
		t.Fatalf("consumed %d records, want %d", len(out.Consumed), n)
	}
	if len(perMember) != 2 {
		t.Errorf("records consumed per member: %v, want both members to get a share", perMember)
	}

	for _, a := range out.Acked {
		if a[0] < 0 || a[0] >= int64(partitions) || a[1] < 0 || a[1] >= nextOffset[int32(a[0])] {
			t.Errorf("produce acknowledged at %d@%d, outside what was consumed (%v)", a[0], a[1], nextOffset)
		}
	}
	clientView := map[int32]int64{}
	for _, c := range out.Committed {
		clientView[int32(c[0])] = c[1]
	}
	for p := range partitions {
		got, _, ok := tb.Broker.Groups().Committed(group, topic, p)
		if !ok || got != nextOffset[p] {
			t.Errorf("group %s committed %s/%d = %d (present %v), want %d", group, topic, p, got, ok, nextOffset[p])
		}
		if clientView[p] != got {
			t.Errorf("kafkajs admin read committed %s/%d = %d, the broker holds %d", topic, p, clientView[p], got)
		}
	}
}

func jsConsumedFields(t *testing.T, c [5]any) (member int, p int32, offset int64, key, value string) {
	t.Helper()
	m, okM := c[0].(float64)
	pf, okP := c[1].(float64)
	o, okO := c[2].(float64)
	key, okK := c[3].(string)
	value, okV := c[4].(string)
	if !okM || !okP || !okO || !okK || !okV {
		t.Fatalf("kafkajs printed consumed record %v, want [member, partition, offset, key, value]", c)
	}
	return int(m), int32(pf), int64(o), key, value
}
