package wire

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestDescribeClusterAtEveryVersion(t *testing.T) {
	d := startDataBroker(t)
	for v := int16(0); v <= 2; v++ {
		req := kmsg.NewPtrDescribeClusterRequest()
		req.Version = v
		req.IncludeClusterAuthorizedOperations = true
		resp := dataRequest[*kmsg.DescribeClusterResponse](t, d.clientAt(t, describeClusterKey, v), req)
		if resp.Version != v {
			t.Fatalf("answered v%d, want v%d", resp.Version, v)
		}
		if resp.ErrorCode != 0 || resp.ClusterID != d.b.ClusterID() || resp.ControllerID != d.b.NodeID() {
			t.Errorf("v%d: error %d, cluster %q, controller %d", v, resp.ErrorCode, resp.ClusterID, resp.ControllerID)
		}
		if len(resp.Brokers) != 1 {
			t.Fatalf("v%d: %d brokers", v, len(resp.Brokers))
		}
		if b := resp.Brokers[0]; b.NodeID != d.b.NodeID() || b.Host != d.host || b.Port != d.port || b.IsFenced {
			t.Errorf("v%d: broker %+v", v, b)
		}
		if resp.ClusterAuthorizedOperations&(1<<kmsg.ACLOperationIdempotentWrite) == 0 {
			t.Errorf("v%d: cluster operations %b lack idempotent write", v, resp.ClusterAuthorizedOperations)
		}
	}
}
