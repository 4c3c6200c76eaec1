package wire

import (
	"context"
	"fmt"
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker/group"
)

// registerGroupAPIs registers the classic consumer-group APIs, each a thin
// handler over the broker's group coordinator. The version ranges are the
// ones the coordinator implements (kmsg v1.15.1's newest), written out so
// that a kmsg upgrade cannot advertise a version nobody implemented.
// KIP-848's ConsumerGroupHeartbeat is deliberately absent, so clients stay
// on the classic protocol.
func registerGroupAPIs(reg *Registry, h *brokerHandlers) error {
	apis := []struct {
		key, maxVersion int16
		handler         HandlerFunc
	}{
		{kmsg.JoinGroup.Int16(), 9, typedHandler(h.joinGroup)},
		{kmsg.SyncGroup.Int16(), 5, typedHandler(h.syncGroup)},
		{kmsg.Heartbeat.Int16(), 4, typedHandler(h.heartbeat)},
		{kmsg.LeaveGroup.Int16(), 5, typedHandler(h.leaveGroup)},
		{kmsg.OffsetCommit.Int16(), 10, typedHandler(h.offsetCommit)},
		{kmsg.OffsetFetch.Int16(), 10, typedHandler(h.offsetFetch)},
		{kmsg.DescribeGroups.Int16(), 6, typedHandler(h.describeGroups)},
		{kmsg.ListGroups.Int16(), 5, typedHandler(h.listGroups)},
		{kmsg.DeleteGroups.Int16(), 3, typedHandler(h.deleteGroups)},
		{kmsg.OffsetDelete.Int16(), 0, typedHandler(h.offsetDelete)},
	}
	for _, api := range apis {
		if err := reg.Handle(api.key, 0, api.maxVersion, api.handler); err != nil {
			return err
		}
	}
	return nil
}

// typedHandler adapts a handler written for one request type to a
// HandlerFunc. The server decodes with kmsg.RequestForKey, so a mismatch
// can only come from a registration mistake; it closes the connection.
func typedHandler[R kmsg.Request](serve func(ctx context.Context, rc *RequestContext, req R) (Response, error)) HandlerFunc {
	return func(ctx context.Context, rc *RequestContext, req kmsg.Request) (Response, error) {
		r, ok := req.(R)
		if !ok {
			return nil, fmt.Errorf("wire: %s handler got a %T", apiName(rc.APIKey), req)
		}
		return serve(ctx, rc, r)
	}
}

// groupContext carries the request's client id and address to the
// coordinator, which stamps them on members (DescribeGroups shows them, and
// member ids start with the client id).
func groupContext(ctx context.Context, rc *RequestContext) context.Context {
	return group.WithClientInfo(ctx, group.ClientInfo{ID: rc.ClientID, Host: "/" + remoteIP(rc.RemoteAddr())})
}

// remoteIP is the host part of a client address, as Kafka prints it.
func remoteIP(addr net.Addr) string {
	if addr == nil {
		return ""
	}
	if tcp, ok := addr.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}
