package wire

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestInitProducerIDAtEveryVersion(t *testing.T) {
	d := startDataBroker(t)
	seen := map[int64]bool{}
	for v := int16(0); v <= 5; v++ {
		req := kmsg.NewPtrInitProducerIDRequest()
		req.Version = v
		resp := dataRequest[*kmsg.InitProducerIDResponse](t, d.clientAt(t, initProducerIDKey, v), req)
		if resp.Version != v {
			t.Fatalf("answered v%d, want v%d", resp.Version, v)
		}
		if resp.ErrorCode != 0 || resp.ProducerID < 0 || resp.ProducerEpoch != 0 {
			t.Fatalf("v%d: error %d, producer %d epoch %d", v, resp.ErrorCode, resp.ProducerID, resp.ProducerEpoch)
		}
		if seen[resp.ProducerID] {
			t.Errorf("v%d: producer id %d handed out twice", v, resp.ProducerID)
		}
		seen[resp.ProducerID] = true
	}
}

func TestInitProducerIDTransactionalRefused(t *testing.T) {
	d := startDataBroker(t)
	c := dial(t, d.addr)
	for i, tc := range []struct {
		id   string
		want int16
	}{
		{"my-transactions", kerr.TransactionalIDAuthorizationFailed.Code},
		{"", kerr.InvalidRequest.Code},
	} {
		req := kmsg.NewPtrInitProducerIDRequest()
		req.Version = 4
		req.TransactionalID = kmsg.StringPtr(tc.id)
		req.TransactionTimeoutMillis = 60_000
		resp := c.roundTrip(req, int32(i)).(*kmsg.InitProducerIDResponse)
		if resp.ErrorCode != tc.want || resp.ProducerID != -1 || resp.ProducerEpoch != -1 {
			t.Errorf("transactional id %q: error %v, producer %d epoch %d; want %v, -1, -1",
				tc.id, kerr.ErrorForCode(resp.ErrorCode), resp.ProducerID, resp.ProducerEpoch, kerr.ErrorForCode(tc.want))
		}
	}
}
