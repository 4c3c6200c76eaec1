package window

import (
	"fmt"
	"time"
)

// DefaultCloseIdleAfter is how long a task's window operator under
// EmitFinal waits without records before its time follows the wall clock
// (see CloseIdleAfter).
const DefaultCloseIdleAfter = time.Second

// Option configures a windowed aggregation.
type Option interface{ apply(*config) }

type config struct {
	name      string
	emitFinal bool
	retention time.Duration // 0: the definition's minimum
	idle      time.Duration
	idleSet   bool
	inMemory  bool
	late      []any // func(K, V, int64), checked against the stream's types
	lateTopic string
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Named names the operation and its window store; the store's changelog is
// "<app id>-<name>-changelog". Name stores explicitly: a generated name
// changes when the topology does, and a renamed store starts empty.
func Named(name string) Option { return optionFunc(func(c *config) { c.name = name }) }

// EmitFinal emits each window's result once, when the window closes, instead
// of every update: Kafka Streams' suppress(untilWindowCloses) or
// EmitStrategy.onWindowClose. A window closes when the operator's time
// reaches its End + grace (+ gap for sessions). With EmitFinal the operator
// also closes windows on the wall clock when its task goes idle (see
// CloseIdleAfter), so results do not wait for the next record.
//
// Without EmitFinal (the default) every update of a window is forwarded
// through the store's cache, like table.Count's: repeated updates between
// commits leave as one record, and a session swallowed by a merge is
// forwarded as a tombstone.
func EmitFinal() Option { return optionFunc(func(c *config) { c.emitFinal = true }) }

// Retention keeps windows in the store, for Fetch, until the operator's
// time passes their start (for sessions: their last record) by d. The
// default and minimum is what the windows need until they close: size +
// grace for time windows, maxDiff + 1ms + grace for sliding windows, and
// 2*gap + grace for sessions. Old windows are dropped whole store segments
// at a time, so some may stay queryable a little longer. The changelog
// topic keeps records for the retention + 1 day (Kafka Streams' default
// additional changelog retention).
func Retention(d time.Duration) Option { return optionFunc(func(c *config) { c.retention = d }) }

// CloseIdleAfter lets windows close while no records arrive. If no record
// reaches the operator in a task for d of wall-clock time, the operator's
// time advances with the wall clock from then on: at each check it becomes
// the time of the last record seen + the wall-clock time elapsed since it
// arrived, as if the stream had gone on flowing with no records. Windows
// whose End + grace that passes close, and under EmitFinal are emitted. The
// advanced time persists: a record that arrives later is late if its windows
// closed meanwhile, as it would be after any newer record. The check runs on
// a wall-clock punctuation every d or every second, whichever is shorter.
//
// The default is DefaultCloseIdleAfter (1 s) under EmitFinal, and never
// otherwise, since without EmitFinal closing only makes records late.
// CloseIdleAfter(0) turns it off: windows then close only as records move
// stream time, and an idle partition holds its last windows back (Kafka
// Streams' behaviour). Choose d well above the usual pause between records
// of a partition: a partition whose records merely lag is otherwise taken
// for idle.
func CloseIdleAfter(d time.Duration) Option {
	return optionFunc(func(c *config) { c.idle, c.idleSet = d, true })
}

// InMemory keeps the window store in memory, rebuilt from its changelog at
// each start, instead of LevelDB.
func InMemory() Option { return optionFunc(func(c *config) { c.inMemory = true }) }

// OnLate calls f with every late record: a record arriving after a window it
// belongs to has closed. It is left out of the closed windows (and still
// counted in any open one, for hopping and sliding windows) and counted in
// LateRecords; f sees it once. f runs in the task's goroutine; its panic is
// a processing error. K and V must be the grouped stream's types.
func OnLate[K, V any](f func(key K, value V, timestamp int64)) Option {
	return optionFunc(func(c *config) { c.late = append(c.late, f) })
}

// LateTo writes every late record to topic, serialized with the grouped
// stream's serdes, with its headers and two more: eddy.late.time, the
// operator's time when it arrived (decimal Unix milliseconds), and
// eddy.task. The topic must exist, as for To.
func LateTo(topic string) Option { return optionFunc(func(c *config) { c.lateTopic = topic }) }

func collect(opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// resolve checks the options against the windows and fills in defaults.
func (c *config) resolve(d definition) error {
	if c.retention == 0 {
		c.retention = time.Duration(d.minRetention()) * time.Millisecond
	}
	if ms(c.retention) < d.minRetention() {
		return fmt.Errorf("window: %s: retention %v is below the %v the windows need until they close",
			d, c.retention, time.Duration(d.minRetention())*time.Millisecond)
	}
	if c.idle < 0 || (c.idle > 0 && c.idle < time.Millisecond) {
		return fmt.Errorf("window: %s: CloseIdleAfter %v: want 0 (off) or at least 1ms", d, c.idle)
	}
	if !c.idleSet && c.emitFinal {
		c.idle = DefaultCloseIdleAfter
	}
	return nil
}
