package broker

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker/group"
)

// GroupRequestor returns a kmsg.Requestor that answers the group APIs
// (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch,
// DescribeGroups, ListGroups) from the broker's coordinator in process, as
// the protocol listener would over TCP. In-process group members
// (broker/member) use it.
func (b *Broker) GroupRequestor(clientID string) kmsg.Requestor {
	return groupRequestor{b: b, info: group.ClientInfo{ID: clientID, Host: "/127.0.0.1"}}
}

type groupRequestor struct {
	b    *Broker
	info group.ClientInfo
}

func (r groupRequestor) Request(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	ctx = group.WithClientInfo(ctx, r.info)
	c := r.b.groups
	switch q := req.(type) {
	case *kmsg.JoinGroupRequest:
		return c.JoinGroup(ctx, q), nil
	case *kmsg.SyncGroupRequest:
		return c.SyncGroup(ctx, q), nil
	case *kmsg.HeartbeatRequest:
		return c.Heartbeat(ctx, q), nil
	case *kmsg.LeaveGroupRequest:
		return c.LeaveGroup(ctx, q), nil
	case *kmsg.OffsetCommitRequest:
		return c.OffsetCommit(ctx, q), nil
	case *kmsg.OffsetFetchRequest:
		return c.OffsetFetch(ctx, q), nil
	case *kmsg.DescribeGroupsRequest:
		return c.DescribeGroups(ctx, q), nil
	case *kmsg.ListGroupsRequest:
		return c.ListGroups(ctx, q), nil
	}
	return nil, fmt.Errorf("broker: %T is not a group request", req)
}
