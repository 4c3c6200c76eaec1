package wire

import (
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker"
)

// adminHandlers serves the topic and config admin APIs.
type adminHandlers struct {
	*brokerHandlers
	// configMu serialises config changes through this listener: APPEND and
	// SUBTRACT read a list's current value before writing the new one, and
	// two of them on the same topic must not lose each other's change.
	configMu sync.Mutex
}

// registerAdminAPIs registers topic creation and deletion and config
// description and changes, at every version of kmsg v1.15.1, written out so
// that a kmsg upgrade cannot advertise a version nobody implemented.
// CreatePartitions is not served: the broker cannot grow a topic.
func registerAdminAPIs(reg *Registry, h *brokerHandlers) error {
	a := &adminHandlers{brokerHandlers: h}
	apis := []struct {
		key, maxVersion int16
		handler         HandlerFunc
	}{
		{kmsg.CreateTopics.Int16(), 7, typedHandler(a.createTopics)},
		{kmsg.DeleteTopics.Int16(), 6, typedHandler(a.deleteTopics)},
		{kmsg.DescribeConfigs.Int16(), 4, typedHandler(a.describeConfigs)},
		{kmsg.AlterConfigs.Int16(), 2, typedHandler(a.alterConfigs)},
		{kmsg.IncrementalAlterConfigs.Int16(), 1, typedHandler(a.incrementalAlterConfigs)},
	}
	for _, api := range apis {
		if err := reg.Handle(api.key, 0, api.maxVersion, api.handler); err != nil {
			return err
		}
	}
	return nil
}

// repeated returns the names that occur more than once in a request. Kafka
// answers such a name with INVALID_REQUEST rather than guess which of its
// entries the client meant.
func repeated[T any](items []T, name func(T) string) map[string]bool {
	seen := make(map[string]bool, len(items))
	dup := map[string]bool{}
	for _, it := range items {
		n := name(it)
		if seen[n] {
			dup[n] = true
		}
		seen[n] = true
	}
	return dup
}

// adminError is a refusal decided here rather than by the broker: a Kafka
// error code and the message the client is shown.
type adminError struct {
	code int16
	msg  string
}

func (e *adminError) Error() string { return e.msg }

func newAdminError(code *kerr.Error, format string, args ...any) error {
	return &adminError{code: code.Code, msg: fmt.Sprintf(format, args...)}
}

// adminErrorCode maps an error to the Kafka code answered for it.
func adminErrorCode(err error) int16 {
	if ae := (*adminError)(nil); errors.As(err, &ae) {
		return ae.code
	}
	return broker.ErrorCode(err)
}

// errorMessage is a result's ErrorMessage: nil on success, otherwise the
// error's text, which names what was wrong.
func errorMessage(err error) *string {
	if err == nil {
		return nil
	}
	msg := err.Error()
	return &msg
}
