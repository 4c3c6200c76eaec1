package window

import (
	"fmt"
	"time"
)

// Windows is a window definition: TimeWindows (Tumbling, Hopping),
// SlidingWindows (Sliding) or SessionWindows (Session).
type Windows interface {
	definition() definition
}

type kind int

const (
	timeKind kind = iota
	slidingKind
	sessionKind
)

// definition is a window definition in milliseconds. size is the window
// length (tumbling, hopping), the time difference (sliding) or the
// inactivity gap (sessions).
type definition struct {
	kind    kind
	size    int64
	advance int64
	grace   int64
	name    string // as the user wrote it, for errors
}

// validate reports a definition that cannot work.
func (d definition) validate() error {
	switch {
	case d.size < 1:
		return fmt.Errorf("window: %s: the size, difference or gap must be at least 1ms", d.name)
	case d.kind == timeKind && (d.advance < 1 || d.advance > d.size):
		return fmt.Errorf("window: %s: the advance must be between 1ms and the size", d.name)
	case d.grace < 0:
		return fmt.Errorf("window: %s: negative grace period", d.name)
	}
	return nil
}

// closeAt returns the operator time at which a window [start, end) closes.
// A session can still grow until gap has passed after its last record, so
// it closes gap later.
func (d definition) closeAt(end int64) int64 {
	if d.kind == sessionKind {
		return end + d.size + d.grace
	}
	return end + d.grace
}

// minRetention is the least retention that keeps every window (and, for
// sliding windows, every buffered record) until it can no longer change:
// window length + grace for time and sliding windows (a sliding window
// spans maxDiff+1 ms); two gaps + grace for sessions, so that a record can
// always see the sessions it could touch.
func (d definition) minRetention() int64 {
	switch d.kind {
	case slidingKind:
		return d.size + 1 + d.grace
	case sessionKind:
		return 2*d.size + d.grace
	}
	return d.size + d.grace
}

func (d definition) String() string { return d.name }

func ms(d time.Duration) int64 { return d.Milliseconds() }

// TimeWindows are windows of a fixed size aligned to the Unix epoch:
// tumbling (back to back) or hopping (overlapping).
type TimeWindows struct{ d definition }

func (w TimeWindows) definition() definition { return w.d }

// Tumbling returns back-to-back windows of the given size: [0, size),
// [size, 2*size), ... Each record falls in exactly one. Durations count in
// whole milliseconds.
func Tumbling(size time.Duration) TimeWindows {
	return TimeWindows{definition{kind: timeKind, size: ms(size), advance: ms(size), name: fmt.Sprintf("Tumbling(%v)", size)}}
}

// Hopping returns windows of the given size starting every advance: a
// record falls in size/advance of them (windows starting before the epoch
// are left out). Hopping(size, size) is Tumbling(size).
func Hopping(size, advance time.Duration) TimeWindows {
	return TimeWindows{definition{kind: timeKind, size: ms(size), advance: ms(advance), name: fmt.Sprintf("Hopping(%v, %v)", size, advance)}}
}

// Grace lets records arrive up to d after a window's end and still count:
// the window closes when the operator's time reaches end + d. The default is
// no grace, Kafka Streams 3's TimeWindows.ofSizeWithNoGrace.
func (w TimeWindows) Grace(d time.Duration) TimeWindows {
	w.d = w.d.withGrace(d)
	return w
}

func (w TimeWindows) String() string { return w.d.name }

func (d definition) withGrace(grace time.Duration) definition {
	d.grace = ms(grace)
	d.name += fmt.Sprintf(".Grace(%v)", grace)
	return d
}

// SlidingWindows are Kafka Streams' sliding windows: windows defined by the
// records themselves, aggregating the records whose timestamps lie within
// maxDiff of each other.
type SlidingWindows struct{ d definition }

func (w SlidingWindows) definition() definition { return w.d }

// Sliding returns sliding windows: each record at t defines the window
// [t-maxDiff, t] (Key Start t-maxDiff, End t+1), and, when a record of the
// same key lies in (t, t+maxDiff], the window [t+1, t+1+maxDiff] just after
// it. Every distinct set of records within maxDiff of each other is thus
// one window, with no empty or duplicate windows.
func Sliding(maxDiff time.Duration) SlidingWindows {
	return SlidingWindows{definition{kind: slidingKind, size: ms(maxDiff), name: fmt.Sprintf("Sliding(%v)", maxDiff)}}
}

// Grace lets records arrive up to d after a window's end and still count
// (default none).
func (w SlidingWindows) Grace(d time.Duration) SlidingWindows {
	w.d = w.d.withGrace(d)
	return w
}

func (w SlidingWindows) String() string { return w.d.name }

// SessionWindows group each key's records into sessions of activity: a
// session ends when no record of the key arrives for longer than the gap.
type SessionWindows struct{ d definition }

func (w SessionWindows) definition() definition { return w.d }

// Session returns session windows with the given inactivity gap: records no
// more than gap apart are in one session, and a record that bridges two
// sessions merges them. A session's Key spans its first record's timestamp
// to its last one's + 1ms.
func Session(gap time.Duration) SessionWindows {
	return SessionWindows{definition{kind: sessionKind, size: ms(gap), name: fmt.Sprintf("Session(%v)", gap)}}
}

// Grace lets records arrive up to d late (default none): a session closes
// when the operator's time passes its last record + gap + d.
func (w SessionWindows) Grace(d time.Duration) SessionWindows {
	w.d = w.d.withGrace(d)
	return w
}

func (w SessionWindows) String() string { return w.d.name }
