package interop

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
)

// groupProduce writes records whose values are the decimal ids first..
// first+n-1, keyed by id so they spread over every partition.
func groupProduce(t *testing.T, addr, topic string, first, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(5*time.Millisecond))
	mustf(t, err, "producer client")
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const chunk = 5000
	for base := first; base < first+n; base += chunk {
		recs := make([]*kgo.Record, 0, chunk)
		for id := base; id < min(base+chunk, first+n); id++ {
			v := []byte(strconv.Itoa(id))
			recs = append(recs, &kgo.Record{Key: v, Value: v})
		}
		mustf(t, cl.ProduceSync(ctx, recs...).FirstErr(), "produce records %d..", base)
	}
}

// groupDelivery is one record handed to one group member.
type groupDelivery struct {
	member     string
	generation int32
	partition  int32
	offset     int64
}

// groupLedger records what every member of a group was assigned and handed,
// and the group's committed offsets as each generation started, so a test
// can tell a lost record, a record delivered twice within a generation, and
// a redelivery of something already committed.
type groupLedger struct {
	tb           *testBroker
	group, topic string

	mu          sync.Mutex
	claims      map[int32]map[string][]int32 // generation → member → partitions
	committedAt map[int32]map[int32]int64    // generation → partition → committed offset at its start
	deliveries  map[int][]groupDelivery      // record id → deliveries
	changed     chan struct{}
}

func newGroupLedger(tb *testBroker, group, topic string) *groupLedger {
	return &groupLedger{tb: tb, group: group, topic: topic,
		claims: map[int32]map[string][]int32{}, committedAt: map[int32]map[int32]int64{},
		deliveries: map[int][]groupDelivery{}, changed: make(chan struct{}, 1)}
}

func (l *groupLedger) notify() {
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

// started records a member's session. The offsets it reads are final for
// the partitions claimed: commits of the previous generation are refused
// once this one exists, and only this member commits them now.
func (l *groupLedger) started(member string, generation int32, partitions []int32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.claims[generation] == nil {
		l.claims[generation] = map[string][]int32{}
		l.committedAt[generation] = map[int32]int64{}
	}
	l.claims[generation][member] = slices.Sorted(slices.Values(partitions))
	for _, p := range partitions {
		off, _, _ := l.tb.Broker.Groups().Committed(l.group, l.topic, p)
		l.committedAt[generation][p] = off
	}
	l.notify()
}

func (l *groupLedger) delivered(id int, d groupDelivery) {
	l.mu.Lock()
	l.deliveries[id] = append(l.deliveries[id], d)
	l.mu.Unlock()
	l.notify()
}

// waitFor waits until cond, evaluated under the ledger's lock, holds.
func (l *groupLedger) waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		l.mu.Lock()
		ok := cond()
		l.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-l.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// fullGeneration returns the newest generation in which exactly members
// members together claimed all partitions, or -1.
func (l *groupLedger) fullGeneration(members, partitions int) int32 {
	best := int32(-1)
	for gen, byMember := range l.claims {
		n := 0
		for _, ps := range byMember {
			n += len(ps)
		}
		if len(byMember) == members && n == partitions && gen > best {
			best = gen
		}
	}
	return best
}

// check verifies every record id in [0, n) was delivered, none twice within
// one generation, and none redelivered unless at or past the offset the
// group had committed when the redelivering generation started. It returns
// the number of redeliveries.
func (l *groupLedger) check(t *testing.T, n int) int {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	redelivered := 0
	for id := 0; id < n; id++ {
		ds := l.deliveries[id]
		if len(ds) == 0 {
			t.Fatalf("record %d was never delivered", id)
		}
		for i, d := range ds[1:] {
			first := ds[i]
			if d.generation <= first.generation {
				t.Fatalf("record %d delivered twice in generation %d: %+v", id, d.generation, ds)
			}
			if committed := l.committedAt[d.generation][d.partition]; d.offset < committed {
				t.Fatalf("record %d (partition %d offset %d) redelivered in generation %d although offset %d was committed",
					id, d.partition, d.offset, d.generation, committed)
			}
			redelivered++
		}
	}
	if len(l.deliveries) != n {
		t.Fatalf("%d distinct records delivered, %d produced", len(l.deliveries), n)
	}
	return redelivered
}

// saramaMember is a sarama consumer-group handler feeding a ledger. It
// handles records at a bounded pace so that a member can leave while most
// of the records are still unconsumed.
type saramaMember struct {
	name   string
	ledger *groupLedger
}

func (m *saramaMember) Setup(sess sarama.ConsumerGroupSession) error {
	m.ledger.started(m.name, sess.GenerationID(), sess.Claims()[m.ledger.topic])
	return nil
}

func (m *saramaMember) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (m *saramaMember) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	handled := 0
	for {
		select {
		case msg, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			id, err := strconv.Atoi(string(msg.Value))
			if err != nil {
				return fmt.Errorf("record at %d/%d: value %q: %w", msg.Partition, msg.Offset, msg.Value, err)
			}
			m.ledger.delivered(id, groupDelivery{member: m.name, generation: sess.GenerationID(), partition: msg.Partition, offset: msg.Offset})
			sess.MarkMessage(msg, "")
			if handled++; handled%5 == 0 {
				time.Sleep(time.Millisecond)
			}
		case <-sess.Context().Done():
			return nil
		}
	}
}

func saramaGroupConfig(clientID string) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.MaxVersion
	cfg.ClientID = clientID
	cfg.Consumer.Return.Errors = true
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = true
	cfg.Consumer.Offsets.AutoCommit.Interval = 100 * time.Millisecond
	cfg.Consumer.Group.Session.Timeout = 6 * time.Second // the broker's minimum
	cfg.Consumer.Group.Heartbeat.Interval = 200 * time.Millisecond
	cfg.Consumer.Group.Rebalance.Timeout = 10 * time.Second
	cfg.Consumer.Group.Rebalance.Retry.Backoff = 100 * time.Millisecond
	cfg.Metadata.Retry.Backoff = 100 * time.Millisecond
	return cfg
}

// runSaramaMember consumes with one group member until ctx ends, then
// closes it (which leaves the group). Errors are reported on the test.
func runSaramaMember(ctx context.Context, t *testing.T, addr, group, topic string, h *saramaMember) (done <-chan struct{}) {
	cg, err := sarama.NewConsumerGroup([]string{addr}, group, saramaGroupConfig(h.name))
	mustf(t, err, "sarama consumer group %s", h.name)
	finished := make(chan struct{})
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		for err := range cg.Errors() {
			t.Logf("%s: %v", h.name, err)
		}
	}()
	go func() {
		defer close(finished)
		defer func() { <-logged }() // Close closes Errors
		for ctx.Err() == nil {
			if err := cg.Consume(ctx, []string{topic}, h); err != nil && !errors.Is(err, sarama.ErrClosedConsumerGroup) {
				t.Errorf("%s: consume: %v", h.name, err)
				break
			}
		}
		if err := cg.Close(); err != nil {
			t.Errorf("%s: close: %v", h.name, err)
		}
	}()
	return finished
}

// TestSaramaConsumerGroup has three sarama members share a 6-partition
// topic; one leaves while most records are unconsumed. Every record must be
// consumed, none twice before the rebalance, and after it only records
// past the last committed offsets may come again.
func TestSaramaConsumerGroup(t *testing.T) {
	const (
		topic      = "orders"
		group      = "sarama-group"
		partitions = 6
		records    = 100_000
	)
	tb := startBroker(t, "")
	tb.createTopic(t, topic, partitions, nil)
	ledger := newGroupLedger(tb, group, topic)

	ctx, cancel := context.WithCancel(context.Background())
	var done []<-chan struct{}
	var cancels []context.CancelFunc
	// Registered after startBroker's, so it runs first: members stop
	// before the broker does, even when the test fails.
	t.Cleanup(func() {
		cancel()
		for _, d := range done {
			<-d
		}
	})
	for i := range 3 {
		mctx, mcancel := context.WithCancel(ctx)
		cancels = append(cancels, mcancel)
		done = append(done, runSaramaMember(mctx, t, tb.Addr, group, topic, &saramaMember{name: fmt.Sprintf("sarama-%d", i), ledger: ledger}))
	}
	var first int32
	ledger.waitFor(t, "three members sharing every partition", time.Minute, func() bool {
		first = ledger.fullGeneration(3, partitions)
		return first >= 0
	})

	groupProduce(t, tb.Addr, topic, 0, records)
	ledger.waitFor(t, "30% of the records consumed", time.Minute, func() bool { return len(ledger.deliveries) >= records*3/10 })
	cancels[2]()
	<-done[2]
	var second int32
	ledger.waitFor(t, "two members sharing every partition", time.Minute, func() bool {
		second = ledger.fullGeneration(2, partitions)
		return second > first
	})
	ledger.waitFor(t, "every record consumed", time.Minute, func() bool { return len(ledger.deliveries) == records })
	cancels[0]()
	cancels[1]()
	<-done[0]
	<-done[1]

	redelivered := ledger.check(t, records)
	ledger.mu.Lock()
	before := 0
	for _, ds := range ledger.deliveries {
		if ds[0].generation == first {
			before++
		}
	}
	gens := slices.Sorted(maps.Keys(ledger.claims))
	ledger.mu.Unlock()
	t.Logf("generations %v; %d records consumed before the rebalance, %d redelivered after it", gens, before, redelivered)
	if before == 0 || before == records {
		t.Fatalf("%d of %d records consumed before the member left: the rebalance did not happen mid-way", before, records)
	}

	// Closing commits what was consumed: the group's offsets are at the
	// end of every partition.
	for p := int32(0); p < partitions; p++ {
		part, err := tb.Broker.Partition(topic, p)
		mustf(t, err, "partition %d", p)
		_, hw, _ := part.Offsets()
		if off, _, _ := tb.Broker.Groups().Committed(group, topic, p); off != hw {
			t.Errorf("partition %d: committed %d, high watermark %d", p, off, hw)
		}
	}
}

// kgoAssignments tracks which partitions each franz-go member holds.
type kgoAssignments struct {
	mu      sync.Mutex
	members []map[int32]bool
}

func (a *kgoAssignments) change(member int, partitions map[string][]int32, assigned bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ps := range partitions {
		for _, p := range ps {
			if assigned {
				a.members[member][p] = true
			} else {
				delete(a.members[member], p)
			}
		}
	}
}

// spread reports whether every member holds some of the partitions and
// together they hold all of them.
func (a *kgoAssignments) spread(partitions int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	total := 0
	for _, m := range a.members {
		if len(m) == 0 {
			return false
		}
		total += len(m)
	}
	return total == partitions
}

// kgoGroupConsume runs members franz-go group consumers until together they
// have consumed want records, committing after each poll before allowing a
// rebalance, so nothing is consumed twice. If produce is set, it runs once
// every member holds partitions. It returns how often each id was seen and
// how many records each member consumed.
func kgoGroupConsume(t *testing.T, addr, group, topic string, partitions, members, want int, produce func()) (map[int]int, []int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// stop ends the polls once want records are in. Commits keep ctx: a
	// member that has counted records commits them even when another
	// member has just stopped the polls, or the next run would read them
	// again.
	pollCtx, stop := context.WithCancel(ctx)
	defer stop()
	var mu sync.Mutex
	seen := map[int]int{}
	perMember := make([]int, members)
	total := 0
	assignments := &kgoAssignments{members: make([]map[int32]bool, members)}
	clients := make([]*kgo.Client, members)
	for i := range clients {
		assignments.members[i] = map[int32]bool{}
		cl, err := kgo.NewClient(
			kgo.SeedBrokers(addr),
			kgo.ClientID(fmt.Sprintf("kgo-member-%d", i)),
			kgo.ConsumerGroup(group),
			kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.DisableAutoCommit(),
			kgo.BlockRebalanceOnPoll(),
			kgo.SessionTimeout(6*time.Second),
			kgo.HeartbeatInterval(200*time.Millisecond),
			kgo.FetchMaxWait(200*time.Millisecond),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { assignments.change(i, ps, true) }),
			kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { assignments.change(i, ps, false) }),
			kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { assignments.change(i, ps, false) }),
		)
		mustf(t, err, "kgo member %d", i)
		clients[i] = cl
	}
	var wg sync.WaitGroup
	for i, cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A poll blocks rebalances until AllowRebalance, and leaving
			// the group on Close is one.
			defer cl.AllowRebalance()
			for pollCtx.Err() == nil {
				// Whatever a poll returns is counted and committed, even
				// if the polls were stopped meanwhile.
				fetches := cl.PollFetches(pollCtx)
				fetches.EachError(func(topic string, p int32, err error) {
					if !errors.Is(err, context.Canceled) {
						t.Errorf("member %d: fetch %s/%d: %v", i, topic, p, err)
					}
				})
				mu.Lock()
				fetches.EachRecord(func(r *kgo.Record) {
					id, err := strconv.Atoi(string(r.Value))
					if err != nil {
						t.Errorf("member %d: value %q", i, r.Value)
					}
					seen[id]++
					perMember[i]++
					total++
				})
				done := total >= want
				mu.Unlock()
				if err := cl.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
					t.Errorf("member %d: commit: %v", i, err)
				}
				cl.AllowRebalance()
				if done {
					stop()
				}
			}
		}()
	}
	if produce != nil {
		for !assignments.spread(partitions) {
			if ctx.Err() != nil {
				t.Fatal("the members never shared the partitions")
			}
			time.Sleep(20 * time.Millisecond)
		}
		produce()
	}
	wg.Wait()
	for _, cl := range clients {
		cl.Close() // leaves the group
	}
	if total < want {
		t.Fatalf("consumed %d records, want %d", total, want)
	}
	return seen, perMember
}

// TestFranzGoConsumerGroup has two franz-go members read a produced set
// exactly once with commits, then new members resume from the committed
// offsets and read only what was produced since.
func TestFranzGoConsumerGroup(t *testing.T) {
	const (
		topic      = "kgo-events"
		group      = "kgo-group"
		partitions = 4
		n          = 20_000
	)
	tb := startBroker(t, "")
	tb.createTopic(t, topic, partitions, nil)

	seen, perMember := kgoGroupConsume(t, tb.Addr, group, topic, partitions, 2, n, func() { groupProduce(t, tb.Addr, topic, 0, n) })
	for id := range n {
		if seen[id] != 1 {
			t.Fatalf("first run: record %d seen %d times", id, seen[id])
		}
	}
	if len(seen) != n || perMember[0] == 0 || perMember[1] == 0 {
		t.Fatalf("first run: %d distinct records, want %d; per member %v", len(seen), n, perMember)
	}

	// New clients of the same group start where the old ones committed.
	groupProduce(t, tb.Addr, topic, n, n/2)
	seen, perMember = kgoGroupConsume(t, tb.Addr, group, topic, partitions, 2, n/2, nil)
	for id := n; id < n+n/2; id++ {
		if seen[id] != 1 {
			t.Fatalf("second run: record %d seen %d times", id, seen[id])
		}
	}
	if len(seen) != n/2 {
		t.Fatalf("second run: %d distinct records, want only the %d new ones", len(seen), n/2)
	}
	t.Logf("records per member: resumed run %v", perMember)
}
