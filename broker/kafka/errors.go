package kafka

import (
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/IBM/sarama"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/log"
)

// Errors of this package that have no counterpart in package broker.
var (
	// ErrUnreachable is returned by New when no bootstrap server answered
	// within Config.ConnectTimeout.
	ErrUnreachable = errors.New("kafka: cluster unreachable")
	// ErrAuthentication is returned by New when the cluster answered but
	// refused the SASL credentials.
	ErrAuthentication = errors.New("kafka: authentication failed")
	// ErrIncompleteResponse is returned when the cluster answered without
	// the partition, topic or group that was asked about.
	ErrIncompleteResponse = errors.New("kafka: response lacks the requested item")
)

// Error is a Kafka error code answered for a partition, topic or group. It
// matches both its sarama.KError and, where one exists, the sentinel of
// package broker or broker/log with the same meaning (broker.ErrUnknownTopic,
// log.ErrOffsetOutOfRange, ...), so callers test errors.Is(err,
// broker.ErrUnknownTopic) whichever Client they hold.
type Error struct {
	Code sarama.KError
	// Retriable reports whether the same request may succeed later (after a
	// metadata refresh for leadership errors).
	Retriable bool
	sentinel  error
}

func (e *Error) Error() string {
	if e.sentinel != nil {
		return e.sentinel.Error() + " (" + e.Code.Error() + ")"
	}
	return e.Code.Error()
}

// Unwrap returns the Kafka code and the matching eddy sentinel.
func (e *Error) Unwrap() []error {
	if e.sentinel == nil {
		return []error{e.Code}
	}
	return []error{e.sentinel, e.Code}
}

// codeError turns a Kafka error code into an *Error (nil for no error).
//
// The table: the eddy sentinel each code matches, and whether the code is
// retriable. Unknown topic is final here: sarama's metadata refresh has
// already retried it before a leader lookup fails.
func codeError(code sarama.KError) error {
	var sentinel error
	retriable := false
	switch code {
	case sarama.ErrNoError:
		return nil
	case sarama.ErrUnknownTopicOrPartition:
		sentinel = broker.ErrUnknownTopic
	case sarama.ErrTopicAlreadyExists:
		sentinel = broker.ErrTopicExists
	case sarama.ErrInvalidTopic:
		sentinel = broker.ErrInvalidTopic
	case sarama.ErrInvalidPartitions:
		sentinel = broker.ErrInvalidPartitions
	case sarama.ErrInvalidConfig:
		sentinel = broker.ErrInvalidConfig
	case sarama.ErrInvalidReplicationFactor:
		sentinel = broker.ErrInvalidReplication
	case sarama.ErrInvalidRecord:
		sentinel = broker.ErrInvalidRecord
	case sarama.ErrOutOfOrderSequenceNumber:
		sentinel = broker.ErrOutOfOrderSequence
	case sarama.ErrInvalidProducerEpoch, sarama.ErrProducerFenced:
		sentinel = broker.ErrProducerFenced
	case sarama.ErrUnknownProducerID:
		sentinel = broker.ErrUnknownProducer
	case sarama.ErrMessageSizeTooLarge, sarama.ErrMessageSetSizeTooLarge:
		sentinel = log.ErrBatchTooLarge
	case sarama.ErrInvalidMessage:
		sentinel = log.ErrInvalidBatch
	case sarama.ErrOffsetOutOfRange:
		sentinel = log.ErrOffsetOutOfRange
	case sarama.ErrKafkaStorageError:
		sentinel, retriable = log.ErrFailed, true
	case sarama.ErrNotLeaderForPartition, sarama.ErrLeaderNotAvailable,
		sarama.ErrRequestTimedOut, sarama.ErrNetworkException,
		sarama.ErrNotEnoughReplicas, sarama.ErrNotEnoughReplicasAfterAppend,
		sarama.ErrFencedLeaderEpoch, sarama.ErrUnknownLeaderEpoch,
		sarama.ErrOffsetNotAvailable, sarama.ErrReplicaNotAvailable,
		sarama.ErrConsumerCoordinatorNotAvailable, sarama.ErrNotCoordinatorForConsumer,
		sarama.ErrOffsetsLoadInProgress, sarama.ErrRebalanceInProgress,
		sarama.ErrConcurrentTransactions, sarama.ErrThrottlingQuotaExceeded:
		retriable = true
	}
	return &Error{Code: code, Retriable: retriable, sentinel: sentinel}
}

// mapErr gives a sarama error this package's form: Kafka codes become
// *Error, a closed sarama client becomes broker.ErrClosed; network errors
// are returned as they are.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var ke *Error
	if errors.As(err, &ke) {
		return err
	}
	var code sarama.KError
	if errors.As(err, &code) {
		return codeError(code)
	}
	if errors.Is(err, sarama.ErrClosedClient) {
		return errors.Join(broker.ErrClosed, err)
	}
	return err
}

// retriable reports whether an operation that failed with err may be
// retried: a retriable Kafka code, or a broken or refused connection.
func retriable(err error) bool {
	var ke *Error
	if errors.As(err, &ke) {
		return ke.Retriable
	}
	var ne net.Error
	switch {
	case errors.Is(err, broker.ErrClosed), errors.Is(err, sarama.ErrClosedClient):
		return false
	case errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, sarama.ErrNotConnected), errors.Is(err, sarama.ErrOutOfBrokers),
		errors.Is(err, sarama.ErrLeaderNotAvailable):
		return true
	}
	return false
}

// connectionBroken reports whether a connection that failed with err must
// be dropped rather than reused: anything but a Kafka error code.
func connectionBroken(err error) bool {
	if err == nil {
		return false
	}
	var ke *Error
	return !errors.As(err, &ke)
}
