package wire

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestFindCoordinatorAtEveryVersion(t *testing.T) {
	d := startDataBroker(t)
	// kgo batches and splits FindCoordinator itself, so a raw socket keeps
	// each version and key list exactly as sent.
	c := dial(t, d.addr)
	for v := int16(0); v <= 6; v++ {
		for _, keyType := range []int8{coordinatorGroup, coordinatorTransaction, 2} {
			if v == 0 && keyType != coordinatorGroup {
				continue // v0 has no key type: always a group
			}
			req := kmsg.NewPtrFindCoordinatorRequest()
			req.Version = v
			req.CoordinatorType = keyType
			req.CoordinatorKey = "my-group"
			req.CoordinatorKeys = []string{"my-group", "other"}
			resp := c.roundTrip(req, int32(v)).(*kmsg.FindCoordinatorResponse)
			wantCode := int16(0)
			if keyType == 2 {
				wantCode = kerr.InvalidRequest.Code
			}
			type answer struct {
				code       int16
				node, port int32
				host       string
			}
			want := answer{wantCode, d.b.NodeID(), d.port, d.host}
			if wantCode != 0 {
				want = answer{wantCode, -1, -1, ""}
			}
			if v < 4 {
				if got := (answer{resp.ErrorCode, resp.NodeID, resp.Port, resp.Host}); got != want {
					t.Errorf("v%d key type %d: %+v, want %+v", v, keyType, got, want)
				}
				continue
			}
			if len(resp.Coordinators) != 2 {
				t.Fatalf("v%d: %d coordinators for 2 keys", v, len(resp.Coordinators))
			}
			for i, co := range resp.Coordinators {
				if co.Key != req.CoordinatorKeys[i] {
					t.Errorf("v%d: coordinator %d is for %q, want %q", v, i, co.Key, req.CoordinatorKeys[i])
				}
				if got := (answer{co.ErrorCode, co.NodeID, co.Port, co.Host}); got != want {
					t.Errorf("v%d key type %d: %+v, want %+v", v, keyType, got, want)
				}
			}
		}
	}
}

// kgo's own group lookup goes through FindCoordinator and then talks to
// the node it names.
func TestFindCoordinatorThroughKgo(t *testing.T) {
	d := startDataBroker(t)
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.CoordinatorKeys = []string{"g1", "g2", "g3"}
	resp := dataRequest[*kmsg.FindCoordinatorResponse](t, d.client(t), req)
	if len(resp.Coordinators) != 3 {
		t.Fatalf("%d coordinators, want 3", len(resp.Coordinators))
	}
	for _, co := range resp.Coordinators {
		if co.ErrorCode != 0 || co.NodeID != d.b.NodeID() || co.Host != d.host || co.Port != d.port {
			t.Errorf("%+v", co)
		}
	}
}
