package wire

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// describeGroups reports each group's state and members; unknown groups
// come back Dead (with GROUP_ID_NOT_FOUND from v6), as in Kafka.
func (h *brokerHandlers) describeGroups(ctx context.Context, rc *RequestContext, req *kmsg.DescribeGroupsRequest) (Response, error) {
	return Message(h.b.Groups().DescribeGroups(groupContext(ctx, rc), req)), nil
}
