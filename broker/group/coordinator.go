package group

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Coordinator is the group coordinator of one broker: it runs every classic
// consumer group and stores their committed offsets. All methods are safe
// for concurrent use; each group has its own lock, so groups never wait on
// each other.
type Coordinator struct {
	cfg     Config
	log     *slog.Logger
	clock   Clock
	journal Journal

	// ctx bounds journal writes that no request waits for (timer-driven
	// transitions); Close cancels it.
	ctx    context.Context
	cancel context.CancelFunc
	closed atomic.Bool

	mu         sync.Mutex
	groups     map[string]*group
	sweepTimer Timer
}

// ErrNilJournal is returned by NewCoordinator without a Journal.
var ErrNilJournal = errors.New("group: nil journal")

// NewCoordinator returns a coordinator that persists through j. Feed it the
// stored journal with Replay before serving requests.
func NewCoordinator(cfg Config, j Journal) (*Coordinator, error) {
	if j == nil {
		return nil, ErrNilJournal
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Coordinator{
		cfg:     cfg,
		log:     cfg.Logger,
		clock:   cfg.Clock,
		journal: j,
		ctx:     ctx,
		cancel:  cancel,
		groups:  make(map[string]*group),
	}
	c.mu.Lock()
	c.armRetentionSweep()
	c.mu.Unlock()
	return c, nil
}

// Close stops every timer and answers requests still waiting in JoinGroup
// or SyncGroup with COORDINATOR_NOT_AVAILABLE, so that clients look for the
// coordinator again. Later requests get the same answer.
func (c *Coordinator) Close() {
	if c.closed.Swap(true) {
		return
	}
	c.cancel()
	c.mu.Lock()
	if c.sweepTimer != nil {
		c.sweepTimer.Stop()
	}
	groups := make([]*group, 0, len(c.groups))
	for _, g := range c.groups {
		groups = append(groups, g)
	}
	c.mu.Unlock()

	gone := kerr.CoordinatorNotAvailable.Code
	for _, g := range groups {
		g.mu.Lock()
		stopTimer(g.joinTimer)
		stopTimer(g.syncTimer)
		for _, t := range g.pending {
			t.Stop()
		}
		for _, m := range g.members {
			stopTimer(m.session)
			m.answerJoin(joinResult{errCode: gone, memberID: m.id})
			m.answerSync(syncResult{errCode: gone})
		}
		g.mu.Unlock()
	}
}

func stopTimer(t Timer) {
	if t != nil {
		t.Stop()
	}
}

// lookup returns the live group called name, creating it if create is set.
func (c *Coordinator) lookup(name string, create bool) *group {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.groups[name]
	if g == nil && create {
		g = newGroup(name, c.clock.Now())
		c.groups[name] = g
	}
	return g
}

// lockGroup returns the group called name with its mu held, or nil. A group
// found dead was deleted meanwhile, so the lookup starts over.
func (c *Coordinator) lockGroup(name string, create bool) *group {
	for {
		g := c.lookup(name, create)
		if g == nil {
			return nil
		}
		g.mu.Lock()
		if g.state != stateDead {
			return g
		}
		g.mu.Unlock()
	}
}

// lockGroupForJournal is lockGroup for callers that will append to the
// journal: it holds journalMu as well, taken first.
func (c *Coordinator) lockGroupForJournal(name string, create bool) *group {
	for {
		g := c.lookup(name, create)
		if g == nil {
			return nil
		}
		g.journalMu.Lock()
		g.mu.Lock()
		if g.state != stateDead {
			return g
		}
		g.mu.Unlock()
		g.journalMu.Unlock()
	}
}

func (c *Coordinator) snapshotGroups() []*group {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*group, 0, len(c.groups))
	for _, g := range c.groups {
		out = append(out, g)
	}
	return out
}

// markDead removes g from the coordinator. The caller holds g.mu.
func (c *Coordinator) markDead(g *group) {
	stopTimer(g.joinTimer)
	stopTimer(g.syncTimer)
	for id, t := range g.pending {
		t.Stop()
		delete(g.pending, id)
	}
	g.transition(stateDead, c.clock.Now())
	c.mu.Lock()
	if c.groups[g.name] == g {
		delete(c.groups, g.name)
	}
	c.mu.Unlock()
}

// forgetIfUnused drops a group that a failed request created and that holds
// nothing worth keeping, so that it does not show up in ListGroups. The
// caller holds g.mu.
func (c *Coordinator) forgetIfUnused(g *group) {
	if g.state == stateEmpty && len(g.members) == 0 && len(g.pending) == 0 &&
		len(g.offsets) == 0 && g.generation == 0 && g.protocolType == "" {
		c.markDead(g)
	}
}

// afterFunc schedules f under g.mu and journals whatever metadata change f
// asked for. Every f must check that it is still the current timer.
func (c *Coordinator) afterFunc(g *group, d time.Duration, f func()) Timer {
	return c.clock.AfterFunc(d, func() {
		if c.closed.Load() {
			return
		}
		g.mu.Lock()
		if g.state != stateDead {
			f()
		}
		g.mu.Unlock()
		_ = c.flushMetadata(g)
	})
}

// flushMetadata journals the group's metadata if a state change marked it
// dirty. It takes journalMu and mu itself, so callers hold neither.
func (c *Coordinator) flushMetadata(g *group) error {
	g.mu.Lock()
	dirty := g.metadataDirty && g.state != stateDead
	g.mu.Unlock()
	if !dirty {
		// The common case skips journalMu, which an offset commit may be
		// holding across a slow append.
		return nil
	}
	g.journalMu.Lock()
	defer g.journalMu.Unlock()
	g.mu.Lock()
	if !g.metadataDirty || g.state == stateDead {
		g.mu.Unlock()
		return nil
	}
	rec := g.metadataRecord(c.clock.Now(), nil)
	g.metadataDirty = false
	g.mu.Unlock()

	if err := c.append([]JournalRecord{rec}); err != nil {
		g.mu.Lock()
		g.metadataDirty = true
		g.mu.Unlock()
		c.log.Error("group metadata not journaled", "group", g.name, "err", err)
		return fmt.Errorf("group %q: journal metadata: %w", g.name, err)
	}
	return nil
}

// append writes records to the journal. The context is the coordinator's,
// not the request's: a client that hangs up must not abandon an append
// that may still become durable, or memory and journal would disagree.
func (c *Coordinator) append(records []JournalRecord) error {
	return c.journal.Append(c.ctx, records)
}

// journalErrCode is the Kafka error code answered when a journal append
// fails: the journal's own Kafka error if it gave one, else a retriable
// COORDINATOR_NOT_AVAILABLE.
func journalErrCode(err error) int16 {
	if ke := (*kerr.Error)(nil); errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.CoordinatorNotAvailable.Code
}
