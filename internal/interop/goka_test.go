package interop

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	gokastorage "github.com/lovoo/goka/storage"

	"github.com/eddy-streams/eddy/broker"
)

const (
	gokaGroup  goka.Group  = "goka-count"
	gokaStream goka.Stream = "goka-clicks"
	gokaKeys               = 20
)

// gokaSaramaConfig is the sarama configuration every goka client here gets,
// a fresh copy each time: goka's *WithConfig builders write the client id
// and partitioner into the config they are given. Passing builders
// explicitly keeps goka's process-wide default config untouched.
func gokaSaramaConfig() *sarama.Config {
	cfg := goka.DefaultConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	return cfg
}

func gokaTopicManager() goka.TopicManagerBuilder {
	tm := goka.NewTopicManagerConfig()
	tm.Table.Replication, tm.Stream.Replication = 1, 1
	return goka.TopicManagerBuilderWithConfig(gokaSaramaConfig(), tm)
}

// gokaLog keeps goka's chatter and shows it only when the test fails.
type gokaLog struct {
	mu  sync.Mutex
	buf strings.Builder
}

func newGokaLog(t *testing.T) *gokaLog {
	l := &gokaLog{}
	t.Cleanup(func() {
		if t.Failed() {
			l.mu.Lock()
			defer l.mu.Unlock()
			t.Logf("goka log:\n%s", extTail(l.buf.String()))
		}
	})
	return l
}

func (l *gokaLog) Print(args ...any)   { l.Printf("%s", fmt.Sprint(args...)) }
func (l *gokaLog) Println(args ...any) { l.Printf("%s", fmt.Sprint(args...)) }
func (l *gokaLog) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.buf, format+"\n", args...)
}

// gokaRunning is a goka processor or view running in its own goroutine.
type gokaRunning struct {
	cancel context.CancelFunc
	done   chan error
}

func gokaRun(run func(context.Context) error) *gokaRunning {
	ctx, cancel := context.WithCancel(context.Background())
	r := &gokaRunning{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- run(ctx) }()
	return r
}

// stop cancels the run and waits for it to return cleanly.
func (r *gokaRunning) stop(t *testing.T, what string) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("%s stopped with %v", what, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%s still running 20s after cancel", what)
	}
}

// gokaStartProcessor runs a processor of gokaGroup that counts the records
// of each key in its persisted group table; processed counts its calls.
func gokaStartProcessor(t *testing.T, addr, storageDir string, processed *atomic.Int64, log *gokaLog) (*goka.Processor, *gokaRunning) {
	t.Helper()
	g := goka.DefineGroup(gokaGroup,
		goka.Input(gokaStream, new(codec.String), func(ctx goka.Context, _ any) {
			var n int64
			if v := ctx.Value(); v != nil {
				n = v.(int64)
			}
			ctx.SetValue(n + 1)
			processed.Add(1)
		}),
		goka.Persist(new(codec.Int64)),
	)
	p, err := goka.NewProcessor([]string{addr}, g,
		goka.WithTopicManagerBuilder(gokaTopicManager()),
		goka.WithConsumerGroupBuilder(goka.ConsumerGroupBuilderWithConfig(gokaSaramaConfig())),
		goka.WithConsumerSaramaBuilder(goka.SaramaConsumerBuilderWithConfig(gokaSaramaConfig())),
		goka.WithProducerBuilder(goka.ProducerBuilderWithConfig(gokaSaramaConfig())),
		goka.WithStorageBuilder(gokastorage.DefaultBuilder(storageDir)),
		goka.WithLogger(log))
	mustf(t, err, "new goka processor")
	run := gokaRun(p.Run)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.WaitForReadyContext(ctx); err != nil {
		run.stop(t, "goka processor")
		t.Fatalf("goka processor not ready: %v", err)
	}
	return p, run
}

// gokaStartView runs a view of the group table with its own local storage,
// so it recovers the whole table from the changelog topic.
func gokaStartView(t *testing.T, addr, storageDir string, log *gokaLog) (*goka.View, *gokaRunning) {
	t.Helper()
	v, err := goka.NewView([]string{addr}, goka.GroupTable(gokaGroup), new(codec.Int64),
		goka.WithViewTopicManagerBuilder(gokaTopicManager()),
		goka.WithViewConsumerSaramaBuilder(goka.SaramaConsumerBuilderWithConfig(gokaSaramaConfig())),
		goka.WithViewStorageBuilder(gokastorage.DefaultBuilder(storageDir)),
		goka.WithViewLogger(log))
	mustf(t, err, "new goka view")
	return v, gokaRun(v.Run)
}

// gokaEmit emits times(i) records for each key i and waits for all of them.
func gokaEmit(t *testing.T, addr string, times func(key int) int) int {
	t.Helper()
	em, err := goka.NewEmitter([]string{addr}, gokaStream, new(codec.String),
		goka.WithEmitterTopicManagerBuilder(gokaTopicManager()),
		goka.WithEmitterProducerBuilder(goka.ProducerBuilderWithConfig(gokaSaramaConfig())))
	mustf(t, err, "new goka emitter")
	var promises []*goka.Promise
	for k := range gokaKeys {
		for range times(k) {
			p, err := em.Emit(fmt.Sprintf("user-%d", k), "click")
			mustf(t, err, "emit for user-%d", k)
			promises = append(promises, p)
		}
	}
	mustf(t, em.Finish(), "finish goka emitter")
	for _, p := range promises {
		var perr error
		p.Then(func(err error) { perr = err }) // already finished: runs now
		mustf(t, perr, "emit")
	}
	return len(promises)
}

// gokaWaitTable waits until the view holds want(k) for every key.
func gokaWaitTable(t *testing.T, v *goka.View, want func(key int) int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var wrong []string
		for k := range gokaKeys {
			key := fmt.Sprintf("user-%d", k)
			got, err := v.Get(key)
			if err != nil {
				wrong = append(wrong, fmt.Sprintf("%s: %v", key, err))
				continue
			}
			if n, _ := got.(int64); n != want(k) {
				wrong = append(wrong, fmt.Sprintf("%s=%v want %d", key, got, want(k)))
			}
		}
		if len(wrong) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goka view after 30s: %s", strings.Join(wrong, ", "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// gokaCheckCommitted checks the processor's group committed the end of
// every partition of its input stream.
func gokaCheckCommitted(t *testing.T, tb *testBroker, partitions int32) {
	t.Helper()
	for p := range partitions {
		part, err := tb.Broker.Partition(string(gokaStream), p)
		mustf(t, err, "partition %s/%d", gokaStream, p)
		_, hw, _ := part.Offsets()
		got, _, ok := tb.Broker.Groups().Committed(string(gokaGroup), string(gokaStream), p)
		if !ok || got != hw {
			t.Errorf("group %s committed %s/%d = %d (present %v), want %d", gokaGroup, gokaStream, p, got, ok, hw)
		}
	}
}

// TestGokaProcessorTableSurvivesBrokerRestart counts clicks per key with a
// goka processor whose group table is persisted (LevelDB plus a compacted
// changelog topic goka creates), reads the table through a goka view, then
// stops everything, restarts the broker, and checks that a restarted
// processor and a fresh view continue from the same counts: the second run
// must process exactly the new records (offsets committed before the
// restart) and its view must recover the table from the changelog.
func TestGokaProcessorTableSurvivesBrokerRestart(t *testing.T) {
	tb := startBroker(t, "")
	const partitions int32 = 4
	tb.createTopic(t, string(gokaStream), partitions, nil)
	log := newGokaLog(t)
	state := t.TempDir()
	firstTimes := func(k int) int { return k%5 + 1 }
	secondTimes := func(k int) int { return k%3 + 2 }

	var processed atomic.Int64
	_, proc := gokaStartProcessor(t, tb.Addr, filepath.Join(state, "processor"), &processed, log)
	view, viewRun := gokaStartView(t, tb.Addr, filepath.Join(state, "view-1"), log)
	first := gokaEmit(t, tb.Addr, firstTimes)
	gokaWaitTable(t, view, func(k int) int64 { return int64(firstTimes(k)) })
	viewRun.stop(t, "goka view")
	proc.stop(t, "goka processor")
	if got := processed.Load(); got != int64(first) {
		t.Fatalf("first processor run processed %d records, %d were emitted", got, first)
	}
	gokaCheckCommitted(t, tb, partitions)

	tb.Restart(t)
	table := string(goka.GroupTable(gokaGroup))
	if _, ok := tb.Broker.Topic(table); !ok {
		t.Fatalf("goka's table topic %s is gone after the restart", table)
	}
	configs, err := tb.Broker.TopicConfigs(table)
	mustf(t, err, "configs of %s", table)
	if !gokaHasCompact(configs) {
		t.Errorf("goka's table topic %s has configs %+v after the restart, want cleanup.policy=compact", table, configs)
	}

	processed.Store(0)
	_, proc = gokaStartProcessor(t, tb.Addr, filepath.Join(state, "processor"), &processed, log)
	view, viewRun = gokaStartView(t, tb.Addr, filepath.Join(state, "view-2"), log)
	second := gokaEmit(t, tb.Addr, secondTimes)
	gokaWaitTable(t, view, func(k int) int64 { return int64(firstTimes(k) + secondTimes(k)) })
	viewRun.stop(t, "goka view")
	proc.stop(t, "goka processor")
	if got := processed.Load(); got != int64(second) {
		t.Fatalf("processor after the restart processed %d records, want only the %d new ones", got, second)
	}
	gokaCheckCommitted(t, tb, partitions)
}

func gokaHasCompact(configs []broker.ConfigEntry) bool {
	for _, c := range configs {
		if c.Name == "cleanup.policy" && c.Value == "compact" {
			return true
		}
	}
	return false
}
