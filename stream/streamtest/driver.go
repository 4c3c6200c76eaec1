package streamtest

import (
	"errors"
	"fmt"
	"time"

	"github.com/eddy-streams/eddy/internal/engine"
	"github.com/eddy-streams/eddy/stream"
)

// ErrStopped is returned (wrapped around the original error) by every call
// on a driver after a record or a punctuation failed under the FailOnError
// policy: the app would have stopped there.
var ErrStopped = engine.ErrDriverStopped

// ErrClosed is returned by calls on a closed driver.
var ErrClosed = engine.ErrDriverClosed

// ErrNotInput is returned by Pipe for a topic the topology does not read.
var ErrNotInput = engine.ErrNotInput

// Option configures a Driver.
type Option func(*config)

type config struct {
	app        stream.Config
	start      time.Time
	partitions map[string]int32
	stateDir   string
	manual     bool
}

// WallClock sets the wall clock's start (default: the Unix epoch, so that
// tests do not depend on when they run).
func WallClock(start time.Time) Option { return func(c *config) { c.start = start } }

// Partitions gives an input or output topic n partitions (default 1).
// Internal topics take the counts the app would give them and cannot be
// set here.
func Partitions(topic string, n int32) Option {
	return func(c *config) { c.partitions[topic] = n }
}

// StateDir keeps the stores in LevelDB under dir, as the app would with
// Config.StateDir (default: in-memory stores). The driver has no changelog
// to restore from, so it starts those stores empty, as the app would on
// empty changelogs.
func StateDir(dir string) Option { return func(c *config) { c.stateDir = dir } }

// AppConfig sets the parts of the app's configuration the driver uses:
// OnDeserializationError, OnProcessingError, CacheMaxBytes, InMemoryStores
// and Logger. Client, StateDir, CommitInterval, Threads and Now are
// ignored: the driver has no broker, commits per step (or on Commit),
// runs in the calling goroutine, and has its own clock (WallClock).
func AppConfig(cfg stream.Config) Option { return func(c *config) { c.app = cfg } }

// ManualCommit flushes store caches only when Commit is called (or a cache
// is full), instead of after every piped record, so a test can watch
// repeated updates of a key collapse into one output record, as in a
// running app between commits.
func ManualCommit() Option { return func(c *config) { c.manual = true } }

// Driver runs a topology synchronously for tests. See the package
// documentation for what it does and does not model.
type Driver struct {
	app *stream.App
	eng *engine.Driver
}

// New checks the topology (the errors NewApp would report) and builds every
// task of it with empty stores, ready for records.
func New(b *stream.Builder, opts ...Option) (*Driver, error) {
	c := config{partitions: map[string]int32{}}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	cfg := c.app
	cfg.Client = offline{}
	cfg.StateDir = c.stateDir
	cfg.InMemoryStores = cfg.InMemoryStores || c.stateDir == ""
	cfg.Now = nil
	app, err := stream.NewApp(b, cfg)
	if err != nil {
		return nil, fmt.Errorf("streamtest: %w", err)
	}
	eng, err := engine.NewDriver(app.Internal(), engine.DriverConfig{Partitions: c.partitions, Start: c.start, ManualCommit: c.manual})
	if err != nil {
		return nil, fmt.Errorf("streamtest: %w", err)
	}
	return &Driver{app: app, eng: eng}, nil
}

// App returns the app the driver runs, for functions that take one, such
// as table.Lookup. Do not Run it.
func (d *Driver) App() *stream.App { return d.app }

// Now returns the driver's wall clock.
func (d *Driver) Now() time.Time { return d.eng.Now() }

// AdvanceWallClock moves the wall clock forward by dur as if the time
// passed continuously: a wall-clock punctuation fires every time it comes
// due on the way (once per interval, not once per call), in order of due
// time, with the clock reading its due time. What the punctuations send is
// processed, and caches flushed, after each one as after a piped record.
// A failing punctuation stops the driver (and would stop the app).
func (d *Driver) AdvanceWallClock(dur time.Duration) error {
	if err := d.eng.AdvanceWallClock(dur); err != nil {
		return fmt.Errorf("streamtest: advance wall clock: %w", err)
	}
	return nil
}

// Commit runs the commit cycle's cache flush: every store's pending
// updates go to its changelog and downstream, and what that sends to the
// topology's own inputs is processed. Without ManualCommit the driver
// commits after every step and Commit has nothing left to do.
func (d *Driver) Commit() error {
	if err := d.eng.Commit(); err != nil {
		return fmt.Errorf("streamtest: commit: %w", err)
	}
	return nil
}

// Err returns the error that stopped the driver, or nil.
func (d *Driver) Err() error { return d.eng.Err() }

// Stats returns the app's counters: BadRecords counts the records skipped,
// dead-lettered or failed under the error policies.
func (d *Driver) Stats() stream.Stats { return d.app.Stats() }

// Close commits (unless the driver stopped on an error), runs the
// processors' Close and closes the stores. Output records stay readable.
func (d *Driver) Close() error {
	if err := d.eng.Close(); err != nil {
		return fmt.Errorf("streamtest: close: %w", err)
	}
	return nil
}

// pipe hands a serialized record to the engine's driver.
func (d *Driver) pipe(topic string, key, value []byte, ts int64, headers []stream.Header) error {
	err := d.eng.Pipe(topic, key, value, ts, headers)
	if err == nil {
		return nil
	}
	var perr *stream.ProcessingError
	if errors.As(err, &perr) {
		return err // already names the topic, partition and offset
	}
	return fmt.Errorf("streamtest: pipe to %s: %w", topic, err)
}
