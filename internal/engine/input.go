package engine

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/broker/log"
	"github.com/eddy-streams/eddy/internal/topology"
)

// input is one input partition of a task: a fetcher goroutine fills chunks,
// the worker walks their records.
type input struct {
	topic     string
	partition int32
	source    topology.SourceFunc // the task's, for topic
	chunks    chan []byte
	// next is the offset after the last record processed: what a commit
	// stores.
	next int64
	// committed is what the last commit stored.
	committed int64
	// written: the fetcher reads records before they are durable
	// (broker.WrittenFetcher), so a commit first awaits the durability of
	// the partition up to next. Otherwise a machine crash could take away
	// records whose offsets are committed, and the records written again
	// in their place would be skipped.
	written bool

	// hw is the partition's high watermark as the fetcher last saw it
	// (-1 until its first fetch answers): whether data is known to be
	// waiting at the broker.
	hw atomic.Int64

	data  []byte          // rest of the current chunk
	chunk []byte          // the current chunk, whole
	it    *batch.Iterator // over the current batch
	// free hands finished chunks back to the fetcher to fetch into, when
	// the client can (broker.BufferedFetcher): records are only read while
	// they are processed (serdes copy what they keep), so a chunk is done
	// with once the worker has moved on to the next.
	free chan []byte
	cur  topology.RawRecord
	has  bool // cur holds a record not yet processed

	// consumed counts the records of topic the app has processed (the
	// engine's counter ConsumedCounter(topic)); uncounted are those
	// processed since the worker last added to it, once per round, so
	// that workers do not share a cache line per record.
	consumed  *atomic.Int64
	uncounted int64
}

// countConsumed adds the records processed since the last call to the
// topic's consumed counter.
func (in *input) countConsumed() {
	if in.uncounted > 0 {
		in.consumed.Add(in.uncounted)
		in.uncounted = 0
	}
}

// chunksAhead is how many fetched chunks an input holds for its worker.
const chunksAhead = 4

// newInput returns an input reading topic's partition from offset next,
// counting the records processed in consumed.
func newInput(topic string, partition int32, next int64, written bool, consumed *atomic.Int64) *input {
	// free holds every chunk there can be: those queued, the worker's and
	// the fetcher's. With less room, a worker that runs ahead of a
	// descheduled fetcher drops finished chunks, and the fetcher then
	// allocates new ones: a megabyte each, zeroed, and garbage later.
	in := &input{topic: topic, partition: partition, chunks: make(chan []byte, chunksAhead),
		free: make(chan []byte, chunksAhead+2), next: next, committed: next, written: written,
		consumed: consumed}
	in.hw.Store(-1) // unknown until the first fetch answers
	return in
}

// peek makes cur the next unprocessed record if one is buffered.
func (in *input) peek() (bool, error) {
	if in.has {
		return true, nil
	}
	for {
		if in.it != nil && in.it.Next() {
			r := in.it.Record()
			if r.Offset < in.next {
				continue // before the position (the fetch started mid-batch)
			}
			in.cur = topology.RawRecord{Topic: in.topic, Partition: in.partition, Offset: r.Offset,
				Timestamp: r.Timestamp, Key: r.Key, Value: r.Value, Headers: r.Headers}
			in.has = true
			return true, nil
		}
		if in.it != nil {
			if err := in.it.Err(); err != nil {
				return false, err
			}
		}
		if len(in.data) == 0 {
			in.recycle()
			select {
			case c := <-in.chunks:
				in.chunk, in.data = c, c
			default:
				return false, nil
			}
		}
		one, rest, err := batch.Next(in.data)
		if err != nil {
			return false, err
		}
		in.data = rest
		if in.it == nil {
			in.it, err = batch.NewIterator(one)
		} else {
			err = in.it.Reset(one)
		}
		if err != nil {
			return false, err
		}
	}
}

// recycle hands the current chunk, read to its end, back to the fetcher.
// It runs before the next chunk is taken: taking one unblocks the fetcher,
// which would otherwise look for a free buffer before this one is there,
// allocate a new one, and leave this one to the garbage collector.
func (in *input) recycle() {
	if in.chunk == nil || in.free == nil {
		return
	}
	select {
	case in.free <- in.chunk:
	default:
	}
	in.chunk = nil
}

// fetch runs until ctx ends, fetching from offset and handing chunks over,
// at most a few ahead of processing. notify is poked when a chunk arrives.
func fetch(ctx context.Context, c broker.Client, in *input, from int64, maxBytes int, wait time.Duration, notify chan<- struct{}, logf func(msg string, args ...any)) {
	next := from
	bf, _ := c.(broker.BufferedFetcher)
	var fetchInto func(ctx context.Context, dst []byte, topic string, partition int32, offset int64, maxBytes int, maxWait time.Duration) (broker.FetchResult, error)
	if bf != nil {
		fetchInto = bf.FetchInto
	}
	if wf, ok := c.(broker.WrittenFetcher); ok && in.written {
		fetchInto = wf.FetchWrittenInto
	}
	for ctx.Err() == nil {
		var res broker.FetchResult
		var err error
		if fetchInto != nil {
			var buf []byte
			select {
			case buf = <-in.free:
			default:
			}
			res, err = fetchInto(ctx, buf[:0], in.topic, in.partition, next, maxBytes, wait)
		} else {
			res, err = c.Fetch(ctx, in.topic, in.partition, next, maxBytes, wait)
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, log.ErrOffsetOutOfRange) || errors.Is(err, broker.ErrUnknownTopic) {
				// auto.offset.reset=earliest, Kafka Streams' default.
				start, lerr := c.ListOffset(ctx, in.topic, in.partition, broker.Earliest)
				if lerr == nil && start > next {
					logf("offset out of range; resetting to earliest", "topic", in.topic, "partition", in.partition, "from", next, "to", start)
					next = start
					continue
				}
			}
			logf("fetch failed; retrying", "topic", in.topic, "partition", in.partition, "offset", next, "err", err)
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
				return
			}
			continue
		}
		in.hw.Store(res.HighWatermark)
		if len(res.Batches) == 0 {
			if cap(res.Batches) > 0 {
				select {
				case in.free <- res.Batches:
				default:
				}
			}
			continue
		}
		last, err := lastOffset(res.Batches)
		if err != nil {
			logf("undecodable fetch; retrying", "topic", in.topic, "partition", in.partition, "offset", next, "err", err)
			continue
		}
		select {
		case in.chunks <- res.Batches:
		case <-ctx.Done():
			return
		}
		select {
		case notify <- struct{}{}:
		default:
		}
		next = last + 1
	}
}

func lastOffset(data []byte) (int64, error) {
	last := int64(-1)
	for len(data) > 0 {
		one, rest, err := batch.Next(data)
		if err != nil {
			return 0, err
		}
		h, err := batch.ParseHeader(one)
		if err != nil {
			return 0, err
		}
		last = h.LastOffset()
		data = rest
	}
	return last, nil
}

// drained reports whether the input has nothing buffered and nothing known
// to be waiting at the broker: the task may then go on with its other
// inputs without breaking timestamp order.
func (in *input) drained() bool {
	hw := in.hw.Load()
	return hw >= 0 && hw <= in.next
}

// awaitWritten returns once every input in moved that was read before its
// records were durable (input.written) is durable up to the position about
// to be committed.
func awaitWritten(ctx context.Context, c broker.Client, moved []*input) error {
	da, ok := c.(broker.DeferredAppender)
	if !ok {
		return nil
	}
	for _, in := range moved {
		if !in.written {
			continue
		}
		if err := da.AwaitDurable(ctx, in.topic, in.partition, in.next); err != nil {
			return fmt.Errorf("engine: %s-%d is not durable up to %d, the position to commit: %w", in.topic, in.partition, in.next, err)
		}
	}
	return nil
}
