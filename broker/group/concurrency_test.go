package group

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// consumerLoop behaves like a client's group loop: join, sync, heartbeat
// until told to rejoin, committing now and then. It records the assignment
// of every generation it completes.
func consumerLoop(ctx context.Context, h *harness, client string, record func(gen int32, id, assignment string)) {
	id := ""
	for ctx.Err() == nil {
		if id == "" {
			resp := h.c.JoinGroup(clientCtx(client), joinReq("busy", "", client))
			id = resp.MemberID
			continue
		}
		jr := h.c.JoinGroup(WithClientInfo(ctx, ClientInfo{ID: client}), joinReq("busy", id, client))
		switch jr.ErrorCode {
		case 0:
		case kerr.UnknownMemberID.Code:
			id = ""
			continue
		default:
			continue
		}
		assign := map[string]string{}
		for _, m := range jr.Members {
			assign[m.MemberID] = "for-" + m.MemberID
		}
		sr := h.c.SyncGroup(ctx, syncReq("busy", id, jr.Generation, assign))
		if sr.ErrorCode != 0 {
			continue
		}
		record(jr.Generation, id, string(sr.MemberAssignment))
		for ctx.Err() == nil {
			if heartbeat(h, "busy", id, jr.Generation) != 0 {
				break
			}
			h.c.OffsetCommit(ctx, commitReq("busy", id, jr.Generation, commitOf{"t", 0, int64(jr.Generation), 0, client}))
			time.Sleep(time.Millisecond)
		}
	}
}

func TestConcurrentMembersConverge(t *testing.T) {
	h := newHarness(t, Config{InitialRebalanceDelay: -1})
	const members = 6
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var mu sync.Mutex
	got := map[int32]map[string]string{}
	record := func(gen int32, id, assignment string) {
		mu.Lock()
		defer mu.Unlock()
		if got[gen] == nil {
			got[gen] = map[string]string{}
		}
		got[gen][id] = assignment
	}

	var wg sync.WaitGroup
	for i := range members {
		wg.Go(func() { consumerLoop(ctx, h, fmt.Sprintf("c%d", i), record) })
	}
	// Bystanders hammer other groups and the admin APIs meanwhile.
	for i := range 2 {
		wg.Go(func() {
			group := fmt.Sprintf("side-%d", i)
			for n := int64(0); ctx.Err() == nil; n++ {
				h.c.OffsetCommit(ctx, commitReq(group, "", -1, commitOf{"t", int32(n % 4), n, 0, ""}))
				h.c.OffsetFetch(ctx, fetchV7(group, nil))
				h.c.ListGroups(ctx, kmsg.NewPtrListGroupsRequest())
				d := kmsg.NewPtrDescribeGroupsRequest()
				d.Groups = []string{"busy"}
				h.c.DescribeGroups(ctx, d)
				time.Sleep(time.Millisecond)
			}
		})
	}

	var final int32
	h.waitFor("all members in one stable generation", func() bool {
		done := false
		h.inspect("busy", func(g *group) {
			done = g != nil && g.state == stateStable && len(g.members) == members && len(g.pendingSync) == 0
			if done {
				final = g.generation
			}
		})
		return done
	})
	cancel()
	wg.Wait()

	t.Logf("converged at generation %d", final)
	assigned := got[final]
	if len(assigned) != members {
		t.Fatalf("generation %d: %d members got an assignment, want %d", final, len(assigned), members)
	}
	for id, a := range assigned {
		if a != "for-"+id {
			t.Fatalf("member %s got %q", id, a)
		}
	}
	if off, _, ok := h.c.Committed("busy", "t", 0); !ok || off > int64(final) {
		t.Fatalf("committed offset %d (%v) beyond generation %d", off, ok, final)
	}
}
