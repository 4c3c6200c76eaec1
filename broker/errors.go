package broker

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/eddy-streams/eddy/broker/log"
)

// Errors returned by the broker. Each maps to a Kafka error code through
// ErrorCode, so the protocol layer and the in-process client agree.
var (
	ErrUnknownTopic       = errors.New("broker: unknown topic or partition")
	ErrTopicExists        = errors.New("broker: topic already exists")
	ErrInvalidTopic       = errors.New("broker: invalid topic")
	ErrInvalidPartitions  = errors.New("broker: invalid number of partitions")
	ErrInvalidConfig      = errors.New("broker: invalid config")
	ErrInvalidReplication = errors.New("broker: invalid replication factor")
	ErrInvalidRecord      = errors.New("broker: invalid record")
	ErrOutOfOrderSequence = errors.New("broker: out of order sequence number")
	ErrProducerFenced     = errors.New("broker: producer epoch is stale")
	ErrUnknownProducer    = errors.New("broker: unknown producer id")
	ErrTransactions       = errors.New("broker: transactions are not supported yet")
	ErrClosed             = errors.New("broker: closed")
)

// ErrorCode returns the Kafka error code for an error from the broker or
// the partition log (0 for nil).
func ErrorCode(err error) int16 {
	var ke *kerr.Error
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ke):
		return ke.Code
	case errors.Is(err, ErrUnknownTopic):
		return kerr.UnknownTopicOrPartition.Code
	case errors.Is(err, ErrTopicExists):
		return kerr.TopicAlreadyExists.Code
	case errors.Is(err, ErrInvalidTopic):
		return kerr.InvalidTopicException.Code
	case errors.Is(err, ErrInvalidPartitions):
		return kerr.InvalidPartitions.Code
	case errors.Is(err, ErrInvalidConfig), errors.Is(err, log.ErrConfig):
		return kerr.InvalidConfig.Code
	case errors.Is(err, ErrInvalidReplication):
		return kerr.InvalidReplicationFactor.Code
	case errors.Is(err, ErrInvalidRecord):
		return kerr.InvalidRecord.Code
	case errors.Is(err, ErrOutOfOrderSequence):
		return kerr.OutOfOrderSequenceNumber.Code
	case errors.Is(err, ErrProducerFenced):
		return kerr.InvalidProducerEpoch.Code
	case errors.Is(err, ErrUnknownProducer):
		return kerr.UnknownProducerID.Code
	case errors.Is(err, ErrTransactions):
		return kerr.TransactionalIDAuthorizationFailed.Code
	case errors.Is(err, log.ErrBatchTooLarge):
		return kerr.MessageTooLarge.Code
	case errors.Is(err, log.ErrInvalidBatch):
		return kerr.CorruptMessage.Code
	case errors.Is(err, log.ErrOffsetOutOfRange):
		return kerr.OffsetOutOfRange.Code
	case errors.Is(err, log.ErrCorrupt):
		return kerr.KafkaStorageError.Code
	case errors.Is(err, log.ErrFailed):
		return kerr.KafkaStorageError.Code
	case errors.Is(err, ErrClosed), errors.Is(err, log.ErrClosed):
		return kerr.NotLeaderForPartition.Code
	}
	return kerr.UnknownServerError.Code
}

// kerrFor turns a Kafka error code into its error value.
func kerrFor(code int16) error {
	if err := kerr.ErrorForCode(code); err != nil {
		return err
	}
	return fmt.Errorf("kafka error code %d", code)
}
