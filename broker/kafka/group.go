package kafka

import (
	"context"
	"fmt"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker"
)

var _ broker.GroupCapable = (*Client)(nil)

// GroupRequestor returns a kmsg.Requestor that sends JoinGroup, SyncGroup,
// Heartbeat, LeaveGroup and OffsetCommit to the group's coordinator
// through sarama, so that the stream engine (package broker/member) takes
// part in consumer groups on a Kafka cluster: it implements
// broker.GroupCapable.
//
// Each kmsg request is converted to sarama's request type and the answer
// back, at the newest version both sarama and Config.Version allow (and
// the broker advertises). JoinGroup and SyncGroup may wait at the
// coordinator up to the rebalance timeout, longer than
// Config.RequestTimeout, so each gets a connection of its own, opened as
// clientID with a read timeout covering the wait and closed after;
// the other requests use the client's pooled connections. A connection
// that breaks is retried like the client's other calls; error codes are
// returned in the response, as kmsg requestors do, after a coordinator
// refresh when the code says the coordinator moved.
func (c *Client) GroupRequestor(clientID string) kmsg.Requestor {
	if clientID == "" {
		clientID = c.cfg.ClientID
	}
	return &groupRequestor{c: c, clientID: clientID}
}

type groupRequestor struct {
	c        *Client
	clientID string
}

// Request sends one group request to its group's coordinator.
func (r *groupRequestor) Request(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	c := r.c
	var group string
	var send func(conn *sarama.Broker) (kmsg.Response, error)
	long := time.Duration(0) // extra read time a blocking request needs
	switch q := req.(type) {
	case *kmsg.JoinGroupRequest:
		group = q.Group
		long = time.Duration(q.RebalanceTimeoutMillis) * time.Millisecond
		sreq := joinToSarama(q, c.cfg.Version)
		send = func(conn *sarama.Broker) (kmsg.Response, error) {
			resp, err := conn.JoinGroup(sreq)
			if err != nil {
				return nil, err
			}
			return joinFromSarama(resp), nil
		}
	case *kmsg.SyncGroupRequest:
		group = q.Group
		// The coordinator answers a follower's sync once the leader's
		// arrives, within the rebalance timeout; the request does not
		// carry it, so allow the longest Kafka's brokers accept.
		long = maxRebalanceWait
		sreq := syncToSarama(q, c.cfg.Version)
		send = func(conn *sarama.Broker) (kmsg.Response, error) {
			resp, err := conn.SyncGroup(sreq)
			if err != nil {
				return nil, err
			}
			return syncFromSarama(resp), nil
		}
	case *kmsg.HeartbeatRequest:
		group = q.Group
		sreq := heartbeatToSarama(q, c.cfg.Version)
		send = func(conn *sarama.Broker) (kmsg.Response, error) {
			resp, err := conn.Heartbeat(sreq)
			if err != nil {
				return nil, err
			}
			out := kmsg.NewPtrHeartbeatResponse()
			out.Version, out.ThrottleMillis, out.ErrorCode = resp.Version, resp.ThrottleTime, int16(resp.Err)
			return out, nil
		}
	case *kmsg.LeaveGroupRequest:
		group = q.Group
		sreq := leaveToSarama(q, c.cfg.Version)
		send = func(conn *sarama.Broker) (kmsg.Response, error) {
			resp, err := conn.LeaveGroup(sreq)
			if err != nil {
				return nil, err
			}
			return leaveFromSarama(resp), nil
		}
	case *kmsg.OffsetCommitRequest:
		group = q.Group
		sreq := commitToSarama(q, c.sc.Config())
		send = func(conn *sarama.Broker) (kmsg.Response, error) {
			resp, err := conn.CommitOffset(sreq)
			if err != nil {
				return nil, err
			}
			return commitFromSarama(q, resp), nil
		}
	default:
		return nil, fmt.Errorf("kafka: group requestor: %T is not a group request this client sends", req)
	}
	resp, err := call(c, ctx, func() (kmsg.Response, error) {
		var resp kmsg.Response
		err := c.retry(ctx, func() error {
			coord, err := c.sc.Coordinator(group)
			if err != nil {
				return mapErr(err)
			}
			var conn *sarama.Broker
			if long > 0 {
				conn, err = r.dedicated(coord.Addr(), long)
			} else {
				conn, err = c.conns.get(coord.Addr())
			}
			if err != nil {
				return err
			}
			resp, err = send(conn)
			if long > 0 {
				_ = conn.Close()
			} else {
				c.conns.put(conn, err)
			}
			return err
		}, func() { _ = c.sc.RefreshCoordinator(group) })
		return resp, err
	})
	if err != nil {
		return nil, fmt.Errorf("kafka: %s for group %s: %w", kmsg.NameForKey(req.Key()), group, err)
	}
	if coordinatorMoved(resp) {
		// The member retries (the codes are retriable); let it find the
		// new coordinator.
		_ = c.sc.RefreshCoordinator(group)
	}
	return resp, nil
}

// maxRebalanceWait bounds how long a SyncGroup may wait at the
// coordinator: Kafka's largest rebalance timeout (max.poll.interval.ms
// defaults to 5 minutes; Kafka Streams uses the same).
const maxRebalanceWait = 5 * time.Minute

// dedicated opens a connection for one request that may wait wait at the
// coordinator before it answers.
func (r *groupRequestor) dedicated(addr string, wait time.Duration) (*sarama.Broker, error) {
	conf := *r.c.sc.Config()
	conf.ClientID = r.clientID
	conf.Net.ReadTimeout = r.c.cfg.RequestTimeout + wait
	b := sarama.NewBroker(addr)
	if err := b.Open(&conf); err != nil {
		return nil, fmt.Errorf("kafka: connect to %s: %w", addr, err)
	}
	if ok, err := b.Connected(); !ok {
		_ = b.Close()
		if err == nil {
			err = sarama.ErrNotConnected
		}
		return nil, fmt.Errorf("kafka: connect to %s: %w", addr, err)
	}
	return b, nil
}

// coordinatorMoved reports whether a response's error code says the
// group's coordinator is elsewhere or not ready.
func coordinatorMoved(resp kmsg.Response) bool {
	moved := func(code int16) bool {
		return code == kerr.NotCoordinator.Code || code == kerr.CoordinatorNotAvailable.Code
	}
	switch r := resp.(type) {
	case *kmsg.JoinGroupResponse:
		return moved(r.ErrorCode)
	case *kmsg.SyncGroupResponse:
		return moved(r.ErrorCode)
	case *kmsg.HeartbeatResponse:
		return moved(r.ErrorCode)
	case *kmsg.LeaveGroupResponse:
		return moved(r.ErrorCode)
	case *kmsg.OffsetCommitResponse:
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				if moved(p.ErrorCode) {
					return true
				}
			}
		}
	}
	return false
}
