package wire

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// deleteTarget is one topic a DeleteTopics request names, by name (v0+)
// or, from v6, by id.
type deleteTarget struct {
	name   string
	id     [16]byte
	byName bool
	err    error
}

// deleteTopics deletes each topic on its own; a deletion is durable before
// it is answered, so TimeoutMillis is not needed.
func (a *adminHandlers) deleteTopics(ctx context.Context, _ *RequestContext, req *kmsg.DeleteTopicsRequest) (Response, error) {
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	targets := a.deleteTargets(req)
	dup := repeated(targets, func(t deleteTarget) string {
		if t.err != nil {
			return ""
		}
		return t.name
	})
	answered := map[string]bool{}
	for _, t := range targets {
		if t.err == nil {
			if answered[t.name] {
				continue
			}
			answered[t.name] = true
			if dup[t.name] {
				t.err = newAdminError(kerr.InvalidRequest, "topic %q is named more than once in the request", t.name)
			} else {
				t.err = a.b.DeleteTopic(ctx, t.name)
			}
		}
		res := kmsg.NewDeleteTopicsResponseTopic()
		if t.name != "" || t.byName {
			res.Topic = kmsg.StringPtr(t.name)
		}
		if req.Version >= 6 {
			res.TopicID = t.id
		}
		res.ErrorCode = adminErrorCode(t.err)
		if req.Version >= 5 {
			res.ErrorMessage = errorMessage(t.err)
		}
		resp.Topics = append(resp.Topics, res)
	}
	return Message(resp), nil
}

// deleteTargets resolves the request's topics to names. A v6+ entry must
// give a name or an id, not both.
func (a *adminHandlers) deleteTargets(req *kmsg.DeleteTopicsRequest) []deleteTarget {
	if req.Version < 6 {
		out := make([]deleteTarget, 0, len(req.TopicNames))
		for _, name := range req.TopicNames {
			t := deleteTarget{name: name, byName: true}
			if info, ok := a.b.Topic(name); ok {
				t.id = info.ID
			}
			out = append(out, t)
		}
		return out
	}
	var ids map[[16]byte]string
	out := make([]deleteTarget, 0, len(req.Topics))
	for _, rt := range req.Topics {
		var t deleteTarget
		switch {
		case rt.Topic != nil && rt.TopicID != [16]byte{}:
			t = deleteTarget{name: *rt.Topic, id: rt.TopicID, byName: true,
				err: newAdminError(kerr.InvalidRequest, "topic %q: give a topic name or a topic id, not both", *rt.Topic)}
		case rt.Topic != nil:
			t = deleteTarget{name: *rt.Topic, byName: true}
			if info, ok := a.b.Topic(t.name); ok {
				t.id = info.ID
			}
		default:
			if ids == nil {
				ids = a.namesByTopicID()
			}
			t = deleteTarget{id: rt.TopicID}
			name, ok := ids[rt.TopicID]
			if !ok {
				t.err = newAdminError(kerr.UnknownTopicID, "no topic has id %x", rt.TopicID)
			}
			t.name = name
		}
		out = append(out, t)
	}
	return out
}
