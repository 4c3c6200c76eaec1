package wire

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// handleDescribeCluster describes the one node. It is broker and controller
// at once (like Kafka's combined mode), so it answers for either endpoint
// type (KIP-919) with itself.
func (h *brokerHandlers) handleDescribeCluster(_ context.Context, _ *RequestContext, kreq kmsg.Request) (Response, error) {
	req, ok := kreq.(*kmsg.DescribeClusterRequest)
	if !ok {
		return nil, errUnexpectedRequest("DescribeCluster", kreq)
	}
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	resp.EndpointType = req.EndpointType
	resp.ClusterID = h.b.ClusterID()
	resp.ControllerID = h.b.NodeID()
	b := kmsg.NewDescribeClusterResponseBroker()
	b.NodeID, b.Host, b.Port = h.b.NodeID(), h.host, h.port
	resp.Brokers = []kmsg.DescribeClusterResponseBroker{b}
	if req.IncludeClusterAuthorizedOperations {
		resp.ClusterAuthorizedOperations = clusterOperations
	}
	return Message(resp), nil
}
