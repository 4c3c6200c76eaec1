package interop

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// restartClient is a kgo client for addr that retries quickly, so a broker
// coming back is noticed within a fraction of a second.
func restartClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts = append([]kgo.Opt{
		kgo.SeedBrokers(addr),
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }),
		kgo.FetchMaxWait(200 * time.Millisecond),
	}, opts...)
	cl, err := kgo.NewClient(opts...)
	mustf(t, err, "new kgo client")
	t.Cleanup(cl.Close)
	return cl
}

// restartProduce sends values "<prefix>-<i>" for i in [first, first+n) with
// acks=all through cl's default topic and returns where each was stored.
func restartProduce(t *testing.T, cl *kgo.Client, prefix string, first, n int) map[string]*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	recs := make([]*kgo.Record, 0, n)
	for i := first; i < first+n; i++ {
		recs = append(recs, &kgo.Record{Key: fmt.Appendf(nil, "k%d", i%50), Value: fmt.Appendf(nil, "%s-%d", prefix, i)})
	}
	mustf(t, cl.ProduceSync(ctx, recs...).FirstErr(), "produce %s %d..%d", prefix, first, first+n-1)
	acked := make(map[string]*kgo.Record, n)
	for _, r := range recs {
		acked[string(r.Value)] = r
	}
	return acked
}

// restartReadAll reads every partition of topic from its start to its end
// offset and checks the offsets are consecutive.
func restartReadAll(t *testing.T, addr, topic string) []*kgo.Record {
	t.Helper()
	adm := kadm.NewClient(restartClient(t, addr))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topic)
	mustf(t, err, "list end offsets of %s", topic)
	starts := map[int32]kgo.Offset{}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		mustf(t, o.Err, "end offset of %s/%d", topic, o.Partition)
		starts[o.Partition] = kgo.NewOffset().AtStart()
		want[o.Partition] = o.Offset
	})
	cl := restartClient(t, addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: starts}))
	next := map[int32]int64{}
	var all []*kgo.Record
	done := func() bool {
		for p, end := range want {
			if next[p] < end {
				return false
			}
		}
		return true
	}
	for !done() {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: read up to %v of %v within 30s", topic, next, want)
		}
		fetches.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fetches.EachRecord(func(r *kgo.Record) {
			if r.Offset != next[r.Partition] {
				t.Fatalf("%s/%d: read offset %d, want %d (gap or repeat)", topic, r.Partition, r.Offset, next[r.Partition])
			}
			next[r.Partition]++
			all = append(all, r)
		})
	}
	return all
}

// restartGroupConsume consumes want records of topic in group, commits
// exactly those (not the rest of what was fetched), leaves the group and
// returns them. With exact, it also waits briefly to make sure no record
// beyond want arrives.
func restartGroupConsume(t *testing.T, addr, group, topic string, want int, exact bool) []*kgo.Record {
	t.Helper()
	cl := restartClient(t, addr, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var taken []*kgo.Record
	for len(taken) < want {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("group %s consumed %d of %d records within 30s", group, len(taken), want)
		}
		fetches.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fetches.EachRecord(func(r *kgo.Record) {
			if len(taken) < want {
				taken = append(taken, r)
			} else if exact {
				t.Errorf("group %s read %s/%d@%d beyond the %d records expected", group, topic, r.Partition, r.Offset, want)
			}
		})
	}
	if exact {
		quiet, stop := context.WithTimeout(ctx, 500*time.Millisecond)
		extra := cl.PollFetches(quiet)
		stop()
		if n := extra.NumRecords(); n > 0 {
			t.Errorf("group %s read %d records beyond the %d expected", group, n, want)
		}
	}
	mustf(t, cl.CommitRecords(ctx, taken...), "commit %d records of group %s", len(taken), group)
	mustf(t, cl.LeaveGroupContext(ctx), "leave group %s", group)
	return taken
}

// restartSnapshot is what a clean restart must keep: topics with their
// partitions and configs, each partition's offsets, and committed offsets.
type restartSnapshot struct {
	topics    map[string]int32
	configs   map[string]map[string]string
	offsets   map[string][3]int64 // "topic/partition" → start, high watermark, end
	committed map[string]int64    // "topic/partition" → committed offset of the group
}

func restartTakeSnapshot(t *testing.T, tb *testBroker, group string) restartSnapshot {
	t.Helper()
	s := restartSnapshot{topics: map[string]int32{}, configs: map[string]map[string]string{},
		offsets: map[string][3]int64{}, committed: map[string]int64{}}
	for _, ti := range tb.Broker.Topics() {
		s.topics[ti.Name] = ti.Partitions
		entries, err := tb.Broker.TopicConfigs(ti.Name)
		mustf(t, err, "configs of %s", ti.Name)
		s.configs[ti.Name] = map[string]string{}
		for _, e := range entries {
			s.configs[ti.Name][e.Name] = e.Value
		}
		for p := range ti.Partitions {
			part, err := tb.Broker.Partition(ti.Name, p)
			mustf(t, err, "partition %s/%d", ti.Name, p)
			start, hw, end := part.Offsets()
			key := fmt.Sprintf("%s/%d", ti.Name, p)
			s.offsets[key] = [3]int64{start, hw, end}
			if o, _, ok := tb.Broker.Groups().Committed(group, ti.Name, p); ok {
				s.committed[key] = o
			}
		}
	}
	return s
}

// TestRestartCleanStopKeepsTopicsDataAndOffsets produces with acks=all,
// commits part of the topic in a group, stops the broker cleanly and starts
// it again: topics, configs, every record at its offset and the committed
// offsets must be as before; the producer, kept open across the restart,
// goes on without duplicates; and the group resumes exactly where it
// committed.
func TestRestartCleanStopKeepsTopicsDataAndOffsets(t *testing.T) {
	tb := startBroker(t, "")
	const topic, autoTopic, group, n = "restart-clean", "restart-auto", "restart-clean-g", 3000
	tb.createTopic(t, topic, 3, map[string]string{"retention.ms": "604800000", "segment.bytes": "65536"})

	prod := restartClient(t, tb.Addr, kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation())
	acked := restartProduce(t, prod, "before", 0, n)
	autoCl := restartClient(t, tb.Addr, kgo.DefaultProduceTopic(autoTopic), kgo.AllowAutoTopicCreation())
	restartProduce(t, autoCl, "auto", 0, 10)
	consumedBefore := restartGroupConsume(t, tb.Addr, group, topic, n/3, false)

	before := restartTakeSnapshot(t, tb, group)
	if _, ok := before.topics[autoTopic]; !ok {
		t.Fatalf("auto-created topic %s missing before the restart: %v", autoTopic, before.topics)
	}
	if len(before.committed) == 0 {
		t.Fatalf("group %s committed nothing before the restart", group)
	}
	tb.Restart(t)
	after := restartTakeSnapshot(t, tb, group)
	for what, pair := range map[string][2]any{
		"topics": {before.topics, after.topics}, "configs": {before.configs, after.configs},
		"offsets": {before.offsets, after.offsets}, "committed offsets": {before.committed, after.committed},
	} {
		if b, a := fmt.Sprint(pair[0]), fmt.Sprint(pair[1]); b != a {
			t.Errorf("%s changed across the restart:\nbefore %s\nafter  %s", what, b, a)
		}
	}
	adm := kadm.NewClient(restartClient(t, tb.Addr))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fetched, err := adm.FetchOffsets(ctx, group)
	mustf(t, err, "fetch offsets of %s after the restart", group)
	fetched.Each(func(o kadm.OffsetResponse) {
		key := fmt.Sprintf("%s/%d", o.Topic, o.Partition)
		if o.Err != nil || o.At != before.committed[key] {
			t.Errorf("kadm fetched committed %s = %d (%v), the broker had %d before the restart", key, o.At, o.Err, before.committed[key])
		}
	})

	// The idempotent producer's session survives the restart.
	for v, r := range restartProduce(t, prod, "after", n, n) {
		acked[v] = r
	}
	stored := restartReadAll(t, tb.Addr, topic)
	if len(stored) != len(acked) {
		t.Errorf("%s holds %d records, %d were acknowledged", topic, len(stored), len(acked))
	}
	for _, r := range stored {
		a, ok := acked[string(r.Value)]
		if !ok || a.Partition != r.Partition || a.Offset != r.Offset || !bytes.Equal(a.Key, r.Key) {
			t.Fatalf("stored %s/%d@%d %q, not where the producer was told it is", topic, r.Partition, r.Offset, r.Value)
		}
	}

	// The group resumes from its commits: together the two runs read
	// everything exactly once.
	consumedAfter := restartGroupConsume(t, tb.Addr, group, topic, len(acked)-len(consumedBefore), true)
	seen := map[string]bool{}
	for _, r := range slices.Concat(consumedBefore, consumedAfter) {
		if seen[string(r.Value)] {
			t.Fatalf("group %s read %q twice: committed offsets lost", group, r.Value)
		}
		seen[string(r.Value)] = true
	}
}

// restartBrokerProcess is `eddy broker` running as a separate process, so
// it can be killed with SIGKILL.
type restartBrokerProcess struct {
	bin, dir, addr string
	cmd            *exec.Cmd
	exited         chan struct{}
	output         restartOutput
}

// restartOutput collects the broker's output across its lives.
type restartOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *restartOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *restartOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// restartBuildEddy builds cmd/eddy into a temporary directory.
func restartBuildEddy(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	mustf(t, err, "find the go tool to build cmd/eddy")
	bin := filepath.Join(t.TempDir(), "eddy")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, "github.com/eddy-streams/eddy/cmd/eddy").CombinedOutput()
	if err != nil {
		t.Fatalf("go build cmd/eddy: %v\n%s", err, out)
	}
	return bin
}

func (b *restartBrokerProcess) start(t *testing.T) {
	t.Helper()
	fmt.Fprintf(&b.output, "--- start\n")
	b.cmd = exec.Command(b.bin, "broker", "--data", b.dir, "--listen", b.addr, "--group-initial-rebalance-delay", "0s")
	b.cmd.Stdout, b.cmd.Stderr = &b.output, &b.output
	mustf(t, b.cmd.Start(), "start eddy broker")
	b.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		cmd.Wait()
		close(exited)
	}(b.cmd, b.exited)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", b.addr, time.Second); err == nil {
			c.Close()
			return
		}
		select {
		case <-b.exited:
			t.Fatalf("eddy broker exited while starting: %v\n%s", b.cmd.ProcessState, extTail(b.output.String()))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("eddy broker not listening on %s after 20s\n%s", b.addr, extTail(b.output.String()))
		}
	}
}

func (b *restartBrokerProcess) kill(t *testing.T) {
	t.Helper()
	fmt.Fprintf(&b.output, "--- kill -9\n")
	mustf(t, b.cmd.Process.Signal(syscall.SIGKILL), "kill eddy broker")
	<-b.exited
}

func (b *restartBrokerProcess) running() bool {
	select {
	case <-b.exited:
		return false
	default:
		return b.cmd != nil
	}
}

// restartLedger records what the producer under test was told.
type restartLedger struct {
	mu       sync.Mutex
	acked    map[string][2]int64 // value → partition, offset
	failed   map[string]error
	frontier map[int32]int64 // partition → one past the highest acknowledged offset
}

func (l *restartLedger) promise(r *kgo.Record, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.failed[string(r.Value)] = err
		return
	}
	l.acked[string(r.Value)] = [2]int64{int64(r.Partition), r.Offset}
	l.frontier[r.Partition] = max(l.frontier[r.Partition], r.Offset+1)
}

func (l *restartLedger) counts() (acked, failed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked), len(l.failed)
}

// restartCommits records the offsets committed while the broker is killed:
// after a restart each partition's committed offset must lie between the
// last acknowledged commit and the last attempted one.
type restartCommits struct {
	mu        sync.Mutex
	acked     map[int32]int64
	attempted map[int32]int64
}

func restartSoakCycles(t *testing.T) int {
	t.Helper()
	v := os.Getenv("EDDY_SOAK_CYCLES")
	if v == "" {
		return 3
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("EDDY_SOAK_CYCLES=%q: want a positive count", v)
	}
	return n
}

// TestRestartKillUnderLoad runs `eddy broker` as a process and SIGKILLs it
// at random moments while an idempotent kgo producer (acks=all, up to five
// produce requests in flight) writes and offsets are committed; after each
// kill the broker restarts on the same data and port. In the end every
// acknowledged record must be stored exactly once at the offset it was
// acknowledged with, no record may appear twice, the topic and its configs
// must be intact and each committed offset must be one that was committed.
func TestRestartKillUnderLoad(t *testing.T) {
	cycles := restartSoakCycles(t)
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("%d kill cycles, seed %d", cycles, seed)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	mustf(t, err, "pick a port")
	addr := ln.Addr().String()
	ln.Close()
	b := &restartBrokerProcess{bin: restartBuildEddy(t), dir: t.TempDir(), addr: addr}
	t.Cleanup(func() {
		if b.running() {
			b.kill(t)
		}
		if t.Failed() {
			t.Logf("broker output:\n%s", extTail(b.output.String()))
		}
	})
	b.start(t)

	const topic, group, partitions = "restart-kill", "restart-kill-g", 3
	configs := map[string]string{"retention.ms": "3600000", "segment.bytes": "262144"}
	adm := kadm.NewClient(restartClient(t, addr))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kconfigs := map[string]*string{}
	for k, v := range configs {
		kconfigs[k] = &v
	}
	_, err = adm.CreateTopic(ctx, partitions, 1, kconfigs, topic)
	mustf(t, err, "create topic %s", topic)

	ledger := &restartLedger{acked: map[string][2]int64{}, failed: map[string]error{}, frontier: map[int32]int64{}}
	prod := restartClient(t, addr, kgo.DefaultProduceTopic(topic), kgo.MaxBufferedRecords(2000),
		kgo.RecordDeliveryTimeout(45*time.Second))
	var stopLoad atomic.Bool
	var sent atomic.Int64
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		for seq := 0; !stopLoad.Load(); seq++ {
			prod.Produce(context.Background(), &kgo.Record{
				Key: fmt.Appendf(nil, "k%d", seq%64), Value: fmt.Appendf(nil, "kill-%d", seq),
			}, ledger.promise)
			sent.Add(1)
		}
	}()
	commits := &restartCommits{acked: map[int32]int64{}, attempted: map[int32]int64{}}
	stopCommits := make(chan struct{})
	commitsDone := make(chan struct{})
	go restartCommitLoop(adm, group, topic, ledger, commits, stopCommits, commitsDone)

	for c := range cycles {
		time.Sleep(time.Duration(300+rng.IntN(700)) * time.Millisecond)
		ackedBefore, _ := ledger.counts()
		pending := sent.Load() - int64(ackedBefore)
		b.kill(t)
		t.Logf("cycle %d: killed with %d records acknowledged, about %d buffered or in flight", c+1, ackedBefore, pending)
		b.start(t)
		restartCheckTopic(t, adm, topic, partitions, configs)
		restartWaitProgress(t, ledger, ackedBefore+500)
	}
	stopLoad.Store(true)
	<-loadDone
	produced := int(sent.Load())
	flushCtx, flushCancel := context.WithTimeout(context.Background(), 45*time.Second)
	mustf(t, prod.Flush(flushCtx), "flush the producer")
	flushCancel()
	close(stopCommits)
	<-commitsDone

	// A last kill once everything is acknowledged: nothing acknowledged may
	// live only in memory.
	b.kill(t)
	b.start(t)
	restartCheckTopic(t, adm, topic, partitions, configs)

	acked, failed := ledger.counts()
	t.Logf("produced %d records: %d acknowledged, %d failed", produced, acked, failed)
	if acked+failed != produced {
		t.Fatalf("%d records produced, but %d acknowledged and %d failed", produced, acked, failed)
	}
	seen := map[string][2]int64{}
	for _, r := range restartReadAll(t, addr, topic) {
		v := string(r.Value)
		if prev, dup := seen[v]; dup {
			t.Fatalf("record %q stored twice: at %d@%d and %d@%d", v, prev[0], prev[1], r.Partition, r.Offset)
		}
		seen[v] = [2]int64{int64(r.Partition), r.Offset}
		if _, ok := ledger.acked[v]; !ok {
			if _, ok := ledger.failed[v]; !ok {
				t.Fatalf("stored %q at %d@%d, which the producer never sent", v, r.Partition, r.Offset)
			}
		}
	}
	for v, at := range ledger.acked {
		if got, ok := seen[v]; !ok || got != at {
			t.Fatalf("record %q acknowledged at %d@%d, stored at %v (present %v)", v, at[0], at[1], got, ok)
		}
	}
	restartCheckCommitted(t, adm, group, topic, commits)
}

// restartCommitLoop commits the producer's acknowledged frontier for group
// every few tens of milliseconds, through kills and restarts.
func restartCommitLoop(adm *kadm.Client, group, topic string, ledger *restartLedger, commits *restartCommits, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		select {
		case <-stop:
			return
		case <-time.After(30 * time.Millisecond):
		}
		ledger.mu.Lock()
		frontier := maps.Clone(ledger.frontier)
		ledger.mu.Unlock()
		var offsets kadm.Offsets
		commits.mu.Lock()
		for p, o := range frontier {
			offsets.AddOffset(topic, p, o, -1)
			commits.attempted[p] = o
		}
		commits.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		resp, err := adm.CommitOffsets(ctx, group, offsets)
		cancel()
		if err != nil || resp.Error() != nil {
			continue // the broker is down or restarting
		}
		commits.mu.Lock()
		for p, o := range frontier {
			commits.acked[p] = o
		}
		commits.mu.Unlock()
	}
}

func restartCheckCommitted(t *testing.T, adm *kadm.Client, group, topic string, commits *restartCommits) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fetched, err := adm.FetchOffsets(ctx, group)
	mustf(t, err, "fetch committed offsets of %s", group)
	commits.mu.Lock()
	defer commits.mu.Unlock()
	if len(commits.acked) == 0 {
		t.Fatalf("no offset commit of group %s was ever acknowledged", group)
	}
	for p, lo := range commits.acked {
		o, ok := fetched.Lookup(topic, p)
		if !ok || o.Err != nil {
			t.Errorf("group %s: no committed offset for %s/%d after the kills (%v); %d was acknowledged", group, topic, p, o.Err, lo)
			continue
		}
		if hi := commits.attempted[p]; o.At < lo || o.At > hi {
			t.Errorf("group %s: committed %s/%d = %d, want between the last acknowledged commit %d and the last attempted %d", group, topic, p, o.At, lo, hi)
		}
	}
}

// restartCheckTopic checks the topic kept its partitions and configs.
func restartCheckTopic(t *testing.T, adm *kadm.Client, topic string, partitions int, configs map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	details, err := adm.ListTopics(ctx, topic)
	mustf(t, err, "list topic %s", topic)
	d, ok := details[topic]
	if !ok || d.Err != nil || len(d.Partitions) != partitions {
		t.Fatalf("topic %s after restart: present %v, error %v, %d partitions, want %d", topic, ok, d.Err, len(d.Partitions), partitions)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	mustf(t, err, "describe configs of %s", topic)
	rc, err := rcs.On(topic, nil)
	mustf(t, err, "configs of %s", topic)
	got := map[string]string{}
	for _, c := range rc.Configs {
		if c.Value != nil {
			got[c.Key] = *c.Value
		}
	}
	var wrong []string
	for k, v := range configs {
		if got[k] != v {
			wrong = append(wrong, fmt.Sprintf("%s=%q want %q", k, got[k], v))
		}
	}
	if len(wrong) > 0 {
		t.Fatalf("topic %s configs after restart: %s", topic, strings.Join(wrong, ", "))
	}
}

// restartWaitProgress waits until the producer has acknowledged at least
// want records: it got going again after the restart.
func restartWaitProgress(t *testing.T, ledger *restartLedger, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		acked, failed := ledger.counts()
		if acked >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("producer stuck after the restart: %d acknowledged (want %d), %d failed", acked, want, failed)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
