package wire

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker"
)

// Data-path API keys and the newest version of each that the embedded broker
// honours. The ranges are fixed here rather than taken from kmsg, so that a
// kmsg upgrade adding a version with new semantics cannot advertise it before
// a handler implements it.
const (
	produceKey              = 0
	fetchKey                = 1
	listOffsetsKey          = 2
	metadataKey             = 3
	findCoordinatorKey      = 10
	initProducerIDKey       = 22
	offsetForLeaderEpochKey = 23
	describeClusterKey      = 60
)

// registerDataAPIs registers the handlers clients use to find the broker,
// produce and consume: Metadata, Produce, Fetch, ListOffsets,
// FindCoordinator, InitProducerId, OffsetForLeaderEpoch and DescribeCluster.
func registerDataAPIs(reg *Registry, h *brokerHandlers) error {
	apis := []struct {
		key, minVersion, maxVersion int16
		handler                     HandlerFunc
	}{
		// Produce v0-2 carry the old message formats; they are advertised
		// only so clients that pick a version from the range (old
		// librdkafka) keep compressing, and are answered per partition
		// with UNSUPPORTED_FOR_MESSAGE_FORMAT.
		{produceKey, 0, 13, h.handleProduce},
		// Fetch v4 is the first to return RecordBatch v2, the only format
		// the log stores.
		{fetchKey, 4, 18, h.handleFetch},
		{listOffsetsKey, 0, 11, h.handleListOffsets},
		{metadataKey, 0, 13, h.handleMetadata},
		{findCoordinatorKey, 0, 6, h.handleFindCoordinator},
		{initProducerIDKey, 0, 5, h.handleInitProducerID},
		// v0 and v1 lack the current-leader-epoch field clients need for
		// truncation detection; nothing current sends them.
		{offsetForLeaderEpochKey, 2, 4, h.handleOffsetForLeaderEpoch},
		{describeClusterKey, 0, 2, h.handleDescribeCluster},
	}
	for _, api := range apis {
		var opts []HandleOption
		if api.key == produceKey {
			// A connection's produces are written in arrival order.
			opts = append(opts, Ordered())
		}
		if err := reg.Handle(api.key, api.minVersion, api.maxVersion, api.handler, opts...); err != nil {
			return err
		}
	}
	return nil
}

// Leader epoch of every partition: a single node never changes leaders.
const leaderEpoch = 0

// namesByTopicID maps topic ids to names, for requests that name topics by
// id (Fetch v13+, Produce v13+, Metadata v12+).
func (h *brokerHandlers) namesByTopicID() map[[16]byte]string {
	topics := h.b.Topics()
	names := make(map[[16]byte]string, len(topics))
	for _, t := range topics {
		names[t.ID] = t.Name
	}
	return names
}

// dataErrorCode is broker.ErrorCode, logging the errors that mean the
// broker is in trouble rather than the client wrong.
func (h *brokerHandlers) dataErrorCode(err error, api, topic string, partition int32) int16 {
	code := broker.ErrorCode(err)
	switch code {
	case kerr.KafkaStorageError.Code, kerr.UnknownServerError.Code:
		h.log.LogAttrs(context.Background(), slog.LevelWarn, "wire: "+api+" failed",
			slog.String("topic", topic), slog.Int("partition", int(partition)), slog.String("err", err.Error()))
	}
	return code
}

// checkLeaderEpoch applies KIP-320's fencing to the leader epoch a client
// believes current: -1 skips the check, an older epoch is fenced, a newer
// one is unknown to this broker.
func checkLeaderEpoch(current int32) int16 {
	switch {
	case current == -1 || current == leaderEpoch:
		return 0
	case current < leaderEpoch:
		return kerr.FencedLeaderEpoch.Code
	default:
		return kerr.UnknownLeaderEpoch.Code
	}
}

// Authorized-operations bitfields (KIP-430) for a broker without an
// authorizer, which allows every operation a resource type supports.
const (
	topicOperations = 1<<kmsg.ACLOperationRead | 1<<kmsg.ACLOperationWrite |
		1<<kmsg.ACLOperationCreate | 1<<kmsg.ACLOperationDelete | 1<<kmsg.ACLOperationAlter |
		1<<kmsg.ACLOperationDescribe | 1<<kmsg.ACLOperationDescribeConfigs | 1<<kmsg.ACLOperationAlterConfigs
	clusterOperations = 1<<kmsg.ACLOperationCreate | 1<<kmsg.ACLOperationAlter |
		1<<kmsg.ACLOperationDescribe | 1<<kmsg.ACLOperationClusterAction |
		1<<kmsg.ACLOperationDescribeConfigs | 1<<kmsg.ACLOperationAlterConfigs | 1<<kmsg.ACLOperationIdempotentWrite
)

// errUnexpectedRequest reports a handler given a request of another key,
// which only a registration mistake can cause.
func errUnexpectedRequest(api string, got any) error {
	return fmt.Errorf("wire: %s handler got %T", api, got)
}
