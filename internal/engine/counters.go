package engine

import "sync/atomic"

// Counter returns the engine's counter called name, created at zero on
// first use. Operators count what they do not pass on (a window's late
// records) where their own queries can read it; a counter lives as long as
// the engine, across its tasks.
func (e *Engine) Counter(name string) *atomic.Int64 {
	if c, ok := e.counters.Load(name); ok {
		return c.(*atomic.Int64)
	}
	c, _ := e.counters.LoadOrStore(name, new(atomic.Int64))
	return c.(*atomic.Int64)
}

// ConsumedCounter is the counter of the records of topic the app's tasks
// have processed (Kafka's records-consumed-total, by topic), named
// topic + ".records-consumed". Workers add to it once per round, not per
// record, so it may lag the records being processed by one round of each
// task (a few hundred records).
func (e *Engine) ConsumedCounter(topic string) *atomic.Int64 {
	return e.Counter(topic + ".records-consumed")
}

// Counters returns the value of every counter.
func (e *Engine) Counters() map[string]int64 {
	out := map[string]int64{}
	e.counters.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// Counter gives a task's operators the engine's counters: DSL packages
// reach it through an optional interface on topology.TaskContext.
func (t *task) Counter(name string) *atomic.Int64 { return t.e.Counter(name) }
