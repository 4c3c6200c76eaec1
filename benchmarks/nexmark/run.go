package nexmark

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/stream"
)

// RunConfig configures Run.
type RunConfig struct {
	// App configures the query's app; Client is required, and StateDir
	// unless InMemoryStores. Run replaces Now with a clock it can move.
	App stream.Config
	// AppID is the app's id (default "nexmark-<query>").
	AppID string
	// Output is the topic the query writes (default "<query>-out"); Run
	// creates it with as many partitions as the bid topic has.
	Output string
	// Input is what the Nexmark topics hold: Run waits until the query has
	// read every event of the kinds it uses.
	Input Counts
	// Params are the windowed queries' parameters.
	Params Params
}

// Result is a finished run.
type Result struct {
	// Records is how many input records the query read.
	Records int64
	// Elapsed is the time from the first record read until every stage
	// of the query had processed everything: until the last record any
	// task processed before the app was found drained (see Run).
	Elapsed time.Duration
	// Output is the topic the query wrote.
	Output string
	// CPU is the CPU time the process used over Elapsed, in all its
	// threads (zero where it is not measured).
	CPU time.Duration
	// LateRecords is how many records arrived after their window closed
	// and were left out (window.LateRecords, over the query's windows).
	LateRecords int64
}

// PerSecond is Records over Elapsed.
func (r Result) PerSecond() float64 { return float64(r.Records) / r.Elapsed.Seconds() }

// PerCPUSecond is Records over CPU: what Nexmark calls throughput per
// core, events over the cores used times the time taken, with the cores
// used measured rather than those available.
func (r Result) PerCPUSecond() float64 { return float64(r.Records) / r.CPU.Seconds() }

// Run runs query q as an app over the events already in the Nexmark topics
// until every stage has processed all of them, then stops it cleanly and
// returns.
//
// Once the sources have read all input and the app has then processed
// nothing for quietPeriod (the later stages finish on their own, without
// commits forced in the middle of them), Run moves the app's wall clock
// ahead by a commit interval at a time, which makes the app commit: when
// every topic the app reads — inputs and its own repartition topics — is
// committed up to its end, three times in a row with commits of every
// worker and nothing new written in between, all stages are done, and
// Elapsed ends. Then Run moves the clock
// an hour ahead, so that the windows still open close as on an idle
// partition (window.CloseIdleAfter) and send their results on, and waits
// in the same way for those to be processed. Moving the clock a commit
// interval at a time counts as idle time too, so unless rc.Params says
// otherwise the windowed queries wait settleIdle before they take a
// partition for idle: otherwise their last windows would close during the
// first settling, and Elapsed would take in the commits forced there
// (which had made q5's and q7's runs about 40% longer).
func Run(ctx context.Context, q Query, rc RunConfig) (Result, error) {
	if rc.AppID == "" {
		rc.AppID = "nexmark-" + q.Name
	}
	if rc.Output == "" {
		rc.Output = q.Name + "-out"
	}
	client := rc.App.Client
	if client == nil {
		return Result{}, fmt.Errorf("nexmark: run %s: no client", q.Name)
	}
	fail := func(err error) (Result, error) { return Result{}, fmt.Errorf("nexmark: run %s: %w", q.Name, err) }
	want := rc.Input.of(q.Inputs)
	parts, err := client.Partitions(ctx, BidTopic)
	if err != nil {
		return fail(err)
	}
	if err := client.CreateTopics(ctx, broker.TopicSpec{Name: rc.Output, Partitions: parts}); err != nil {
		return fail(fmt.Errorf("create %s: %w", rc.Output, err))
	}
	if rc.App.CommitInterval <= 0 {
		rc.App.CommitInterval = time.Second
	}
	if rc.Params.CloseIdleAfter == 0 {
		rc.Params.CloseIdleAfter = settleIdle
	}
	clk := &movableClock{now: rc.App.Now}
	if clk.now == nil {
		clk.now = time.Now
	}
	rc.App.Now = clk.Now

	b := stream.NewBuilder(rc.AppID)
	q.Build(From(b), rc.Output, rc.Params)
	app, err := stream.NewApp(b, rc.App)
	if err != nil {
		return fail(err)
	}
	// The input read is the engine's consumed counters of the query's
	// topics, as Flink's Nexmark counts a source's numRecordsOut: a
	// counting stage in the topology would charge the query for the
	// harness's own work on every record.
	var consumed []*atomic.Int64
	for _, k := range q.Inputs {
		consumed = append(consumed, app.Internal().ConsumedCounter(k.Topic()))
	}
	read := func() int64 {
		var n int64
		for _, c := range consumed {
			n += c.Load()
		}
		return n
	}
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- app.Run(rctx) }()
	stopped := func(err error) error {
		if err == nil {
			err = ctx.Err()
		}
		if err == nil {
			err = errors.New("it stopped")
		}
		return fmt.Errorf("the app stopped after reading %d of %d records: %w", read(), want, err)
	}

	// The run starts at the last look that found nothing read yet, so
	// it takes in the first round of records (a look every firstPoll;
	// the counters grow once per round of a task, not per record).
	first, firstCPU := time.Now(), cpuTime()
	for read() == 0 && want > 0 {
		select {
		case err := <-done:
			return fail(stopped(err))
		case <-time.After(firstPoll):
		}
		if read() == 0 {
			first, firstCPU = time.Now(), cpuTime()
		}
	}
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for read() < want {
		select {
		case err := <-done:
			return fail(stopped(err))
		case <-tick.C:
		}
	}
	// The sources are read, but the later stages of a query may still have
	// records in flight. Settling forces commits, which would stall the
	// workers in the middle of those, so the app first runs on its own
	// until it has processed nothing for a while.
	prog := watchProgress(app)
	for time.Since(prog.last()) < quietPeriod {
		select {
		case err := <-done:
			prog.stop()
			return fail(stopped(err))
		case <-tick.C:
		}
	}
	// Every stage has processed everything now, except what closing the
	// last windows will send on, which moving the clock an hour ahead
	// does. Finding that out takes commits; the time they take is not the
	// query's, so the run ends with the last record processed before.
	d := drain{client: client, group: rc.AppID, topics: consumedTopics(b)}
	err = d.settle(ctx, clk, rc.App.CommitInterval, app, rc.App.Threads, done)
	lastAt, lastCPU := prog.stop()
	elapsed := lastAt.Sub(first)
	cpu := lastCPU - firstCPU
	if err != nil {
		return fail(stopped(err))
	}
	clk.advance(time.Hour)
	if err := d.settle(ctx, clk, rc.App.CommitInterval, app, rc.App.Threads, done); err != nil {
		return fail(stopped(err))
	}
	res := Result{Records: want, Output: rc.Output}
	if want > 0 {
		res.Elapsed, res.CPU = elapsed, cpu
	}
	for name, n := range app.Internal().Counters() {
		if strings.HasSuffix(name, ".late-records") {
			res.LateRecords += n
		}
	}
	stop()
	if err := <-done; err != nil {
		return fail(err)
	}
	return res, nil
}

// settleIdle is the windowed queries' CloseIdleAfter in Run: far more
// than the clock moves while Run finds the app drained (a commit interval
// per step, some tens of steps), far less than the hour it then moves.
const settleIdle = 10 * time.Minute

// firstPoll is how often Run looks for the first records read. A run
// starts at the last look that found none, so it starts early, never
// late, by up to a poll and a round of the first task.
const firstPoll = 200 * time.Microsecond

// quietPeriod is how long an app must process nothing before a run
// settles it: longer than the default linger (100 ms), so a batch waiting
// for more records goes out on its own first.
const quietPeriod = 200 * time.Millisecond

// progress polls an app's processed-record count every millisecond and
// keeps when it last grew, and the process's CPU time then.
type progress struct {
	at   atomic.Int64 // Unix ns of the last growth
	cpu  atomic.Int64 // cpuTime() then
	quit chan struct{}
	done chan struct{}
}

func watchProgress(app *stream.App) *progress {
	p := &progress{quit: make(chan struct{}), done: make(chan struct{})}
	p.grew()
	go func() {
		defer close(p.done)
		n := app.Stats().Records
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.quit:
				if app.Stats().Records != n {
					p.grew()
				}
				return
			case <-tick.C:
				if m := app.Stats().Records; m != n {
					n = m
					p.grew()
				}
			}
		}
	}()
	return p
}

func (p *progress) grew() {
	p.cpu.Store(int64(cpuTime()))
	p.at.Store(time.Now().UnixNano())
}

// last is when the count last grew.
func (p *progress) last() time.Time { return time.Unix(0, p.at.Load()) }

// stop ends the polling and returns when the count last grew, with the
// process's CPU time then.
func (p *progress) stop() (time.Time, time.Duration) {
	close(p.quit)
	<-p.done
	return p.last(), time.Duration(p.cpu.Load())
}

// of returns how many events of the given kinds c counts.
func (c Counts) of(kinds []Kind) int64 {
	var n int64
	for _, k := range kinds {
		n += map[Kind]int64{KindPerson: c.Persons, KindAuction: c.Auctions, KindBid: c.Bids}[k]
	}
	return n
}

// movableClock is a wall clock that Run can move ahead.
type movableClock struct {
	now    func() time.Time
	offset atomic.Int64
}

func (c *movableClock) Now() time.Time           { return c.now().Add(time.Duration(c.offset.Load())) }
func (c *movableClock) advance(by time.Duration) { c.offset.Add(int64(by)) }

// consumedTopics lists the topics a topology reads: its inputs and the
// internal topics between its sub-topologies.
func consumedTopics(b *stream.Builder) []string {
	var topics []string
	for _, n := range b.Internal().Topo.Nodes {
		if n.Kind == topology.Source {
			topics = append(topics, n.Topics...)
		}
	}
	slices.Sort(topics)
	return slices.Compact(topics)
}

// drain tells whether an app has consumed and committed everything.
type drain struct {
	client broker.Client
	group  string
	topics []string
	last   []int64 // end offsets at the previous check
}

// settle moves the clock on by step at a time, which makes every worker
// commit, until check has succeeded three times in a row with every worker
// having committed in between: the second of those commits started after
// the previous check, so whatever a punctuation emitted or a cache held
// before it was written and, if the check still holds, consumed.
func (d *drain) settle(ctx context.Context, clk *movableClock, step time.Duration, app *stream.App, workers int, stopped <-chan error) error {
	// A worker commits once per step, or twice if it was committing when
	// the clock moved: 2w-1 commits cannot all come from w-1 workers.
	need := int64(2*max(workers, 1) - 1)
	for settled := 0; settled < 3; {
		base := app.Stats().Commits
		for app.Stats().Commits-base < need {
			clk.advance(step)
			select {
			case err := <-stopped:
				return err
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
		ok, err := d.check(ctx)
		if err != nil {
			return err
		}
		if ok {
			settled++
		} else {
			settled = 0
		}
	}
	return nil
}

// check reports whether every partition of the topics is committed up to
// its end, and the ends have not moved since the previous check.
func (d *drain) check(ctx context.Context) (bool, error) {
	var tps []broker.TopicPartition
	for _, t := range d.topics {
		n, err := d.client.Partitions(ctx, t)
		if err != nil {
			return false, err
		}
		for p := range n {
			tps = append(tps, broker.TopicPartition{Topic: t, Partition: p})
		}
	}
	ends := make([]int64, len(tps))
	for i, tp := range tps {
		end, err := d.client.ListOffset(ctx, tp.Topic, tp.Partition, broker.Latest)
		if err != nil {
			return false, err
		}
		ends[i] = end
	}
	committed, err := d.client.CommittedOffsets(ctx, d.group, tps)
	if err != nil {
		return false, err
	}
	same := slices.Equal(ends, d.last)
	d.last = ends
	for i, c := range committed {
		if c.Offset < ends[i] {
			if c.Offset >= 0 {
				return false, nil
			}
			start, err := d.client.ListOffset(ctx, tps[i].Topic, tps[i].Partition, broker.Earliest)
			if err != nil {
				return false, err
			}
			if start < ends[i] {
				return false, nil // never committed, and not empty
			}
		}
	}
	return same, nil
}
