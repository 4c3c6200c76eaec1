package streamtest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/eddy-streams/eddy/broker"
)

// errOffline is what the driver's app would get if anything reached for a
// broker: nothing should, since the engine's driver carries every record
// itself and knows every partition count the topology names.
var errOffline = errors.New("streamtest: the test driver has no broker")

// offline is the broker.Client of the app a Driver wraps: stream.NewApp
// requires one, and the engine's driver never calls it. The one way to
// reach it is a custom processor asking the partition count of, or sending
// to, a topic the topology never names; the error says how to declare it.
type offline struct{}

var _ broker.Client = offline{}

func (offline) CreateTopics(context.Context, ...broker.TopicSpec) error { return errOffline }

func (offline) Partitions(_ context.Context, topic string) (int32, error) {
	return 0, fmt.Errorf("%w: topic %s is not named by the topology; declare it with streamtest.Partitions(%q, n)", errOffline, topic, topic)
}

func (offline) Append(context.Context, string, int32, []byte) (int64, error) { return 0, errOffline }

func (offline) Fetch(context.Context, string, int32, int64, int, time.Duration) (broker.FetchResult, error) {
	return broker.FetchResult{}, errOffline
}

func (offline) ListOffset(context.Context, string, int32, int64) (int64, error) { return 0, errOffline }

func (offline) CommitOffsets(context.Context, string, []broker.TopicPartitionOffset) error {
	return errOffline
}

func (offline) CommittedOffsets(context.Context, string, []broker.TopicPartition) ([]broker.TopicPartitionOffset, error) {
	return nil, errOffline
}

func (offline) Close() error { return nil }
