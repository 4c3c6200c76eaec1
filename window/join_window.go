package window

import (
	"fmt"
	"math"
	"time"
)

// JoinWindow is the window of a stream–stream join (Join, LeftJoin,
// OuterJoin): how far apart in event time a left and a right record with
// the same key may be and still join, and how long out-of-order records
// are waited for. A left record at t joins the right records with
// timestamps in [t - before, t + after]; seen from the right, a right
// record at t joins the left records in [t - after, t + before].
//
// Make one with JoinWindows and adjust it with Before, After and Grace;
// the zero value joins records with equal timestamps only, without grace.
type JoinWindow struct {
	before, after, grace int64 // milliseconds
}

// JoinWindows returns a symmetric join window: records join when their
// timestamps are at most d apart, either way (Kafka Streams'
// JoinWindows.ofTimeDifferenceWithNoGrace). Durations count in whole
// milliseconds.
func JoinWindows(d time.Duration) JoinWindow {
	return JoinWindow{before: ms(d), after: ms(d)}
}

// Before sets how much earlier than a left record a right record may be:
// the left record at t joins right records from t - d. d must not be
// negative.
func (w JoinWindow) Before(d time.Duration) JoinWindow {
	w.before = ms(d)
	return w
}

// After sets how much later than a left record a right record may be: the
// left record at t joins right records up to t + d. d must not be
// negative. Before(0) with After(d) joins each left record with the right
// records of the d that follow it only.
func (w JoinWindow) After(d time.Duration) JoinWindow {
	w.after = ms(d)
	return w
}

// Grace lets records arrive out of order by up to d and still join
// (default none, Kafka Streams 3's ofTimeDifferenceWithNoGrace). See Join
// for what closes a record's window.
func (w JoinWindow) Grace(d time.Duration) JoinWindow {
	w.grace = ms(d)
	return w
}

func (w JoinWindow) String() string {
	return fmt.Sprintf("JoinWindows(before %v, after %v, grace %v)", msDuration(w.before), msDuration(w.after), msDuration(w.grace))
}

func msDuration(v int64) time.Duration { return time.Duration(v) * time.Millisecond }

// validate reports a window that cannot work.
func (w JoinWindow) validate() error {
	switch {
	case w.before < 0 || w.after < 0:
		return fmt.Errorf("window: %s: Before and After must not be negative (a record's window must hold its own time)", w)
	case w.grace < 0:
		return fmt.Errorf("window: %s: negative grace period", w)
	}
	return nil
}

// retention is how long after its timestamp a buffered record may still
// be joined: a left record at t can meet right records up to t + after,
// which may arrive until time passes their own t + before + grace.
func (w JoinWindow) retention() int64 { return w.before + w.after + w.grace }

// The two sides of a join, as stored in candidate keys.
const (
	sideLeft  byte = 0
	sideRight byte = 1
)

// reach returns how far before and after its own timestamp a record of
// side looks for partners on the other side.
func (w JoinWindow) reach(side byte) (back, ahead int64) {
	if side == sideLeft {
		return w.before, w.after
	}
	return w.after, w.before
}

// closeAt is the time after which a record of side at ts takes no more
// partners: its window's end plus the grace period. Once time passes it,
// the record is late if it has only just arrived, and final otherwise
// (emitted unmatched by left and outer joins if it never joined).
func (w JoinWindow) closeAt(side byte, ts int64) int64 {
	_, ahead := w.reach(side)
	return satAdd(ts, ahead+w.grace)
}

// satAdd adds a non-negative d to t without overflowing.
func satAdd(t, d int64) int64 {
	if t > math.MaxInt64-d {
		return math.MaxInt64
	}
	return t + d
}

// satSub subtracts a non-negative d from t without overflowing.
func satSub(t, d int64) int64 {
	if t < math.MinInt64+d {
		return math.MinInt64
	}
	return t - d
}
