package wire

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/eddy-streams/eddy/broker"
)

// configResource identifies a resource of an AlterConfigs or
// IncrementalAlterConfigs request, to find resources named twice.
func configResource(typ kmsg.ConfigResourceType, name string) string {
	return fmt.Sprintf("%d/%s", typ, name)
}

// incrementalAlterConfigs changes the named configs of topics and leaves
// the others alone. Each resource succeeds or fails as a whole.
func (a *adminHandlers) incrementalAlterConfigs(ctx context.Context, _ *RequestContext, req *kmsg.IncrementalAlterConfigsRequest) (Response, error) {
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	errs := alterEach(a, req.Resources,
		func(r *kmsg.IncrementalAlterConfigsRequestResource) (kmsg.ConfigResourceType, string) {
			return r.ResourceType, r.ResourceName
		},
		func(r *kmsg.IncrementalAlterConfigsRequestResource) error {
			return a.alterIncrementally(ctx, r, req.ValidateOnly)
		})
	for i, rr := range req.Resources {
		res := kmsg.NewIncrementalAlterConfigsResponseResource()
		res.ResourceType, res.ResourceName = rr.ResourceType, rr.ResourceName
		res.ErrorCode, res.ErrorMessage = adminErrorCode(errs[i]), errorMessage(errs[i])
		resp.Resources = append(resp.Resources, res)
	}
	return Message(resp), nil
}

// alterEach alters each resource of a request in turn under configMu, so
// that read-modify-write changes do not interleave; a resource named twice
// in one request is refused. It returns each resource's error (or nil).
func alterEach[R any](a *adminHandlers, resources []R, id func(*R) (kmsg.ConfigResourceType, string), alter func(*R) error) []error {
	dup := repeated(resources, func(r R) string { return configResource(id(&r)) })
	a.configMu.Lock()
	defer a.configMu.Unlock()
	errs := make([]error, len(resources))
	for i := range resources {
		r := &resources[i]
		if typ, name := id(r); dup[configResource(typ, name)] {
			errs[i] = newAdminError(kerr.InvalidRequest, "%s %q is named more than once in the request", typ, name)
			continue
		}
		errs[i] = alter(r)
	}
	return errs
}

func (a *adminHandlers) alterIncrementally(ctx context.Context, rr *kmsg.IncrementalAlterConfigsRequestResource, validateOnly bool) error {
	if err := a.checkAlterable(rr.ResourceType, rr.ResourceName); err != nil {
		return err
	}
	info, ok := a.b.Topic(rr.ResourceName)
	if !ok {
		return fmt.Errorf("%w: %s", broker.ErrUnknownTopic, rr.ResourceName)
	}
	dup := repeated(rr.Configs, func(c kmsg.IncrementalAlterConfigsRequestResourceConfig) string { return c.Name })
	ops := make([]broker.ConfigOp, 0, len(rr.Configs))
	for _, c := range rr.Configs {
		if dup[c.Name] {
			return newAdminError(kerr.InvalidRequest, "config %q is changed more than once in one request", c.Name)
		}
		def, known := broker.TopicConfigDefault(c.Name)
		if !known {
			return newAdminError(kerr.InvalidConfig, "unknown topic config %q", c.Name)
		}
		if c.Value == nil && c.Op != kmsg.IncrementalAlterConfigOpDelete {
			return newAdminError(kerr.InvalidRequest, "config %q: %s needs a value", c.Name, c.Op)
		}
		switch c.Op {
		case kmsg.IncrementalAlterConfigOpSet:
			ops = append(ops, broker.ConfigOp{Name: c.Name, Value: *c.Value})
		case kmsg.IncrementalAlterConfigOpDelete:
			ops = append(ops, broker.ConfigOp{Name: c.Name, Delete: true})
		case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
			if topicConfigInfos[c.Name].typ != kmsg.ConfigTypeList {
				return newAdminError(kerr.InvalidConfig, "config %q is not a list: %s applies to list configs only", c.Name, c.Op)
			}
			current, set := info.Configs[c.Name]
			if !set {
				current = def
			}
			ops = append(ops, broker.ConfigOp{Name: c.Name, Value: changeList(current, *c.Value, c.Op == kmsg.IncrementalAlterConfigOpAppend)})
		default:
			return newAdminError(kerr.InvalidRequest, "config %q: unknown operation %d", c.Name, int8(c.Op))
		}
	}
	return a.applyTopicConfigs(ctx, rr.ResourceName, ops, false, validateOnly)
}

// changeList adds the items of change that list lacks, or removes those it
// has; both are comma-separated, as Kafka writes lists.
func changeList(list, change string, add bool) string {
	items := splitList(list)
	for _, it := range splitList(change) {
		has := slices.Contains(items, it)
		switch {
		case add && !has:
			items = append(items, it)
		case !add && has:
			items = slices.DeleteFunc(items, func(s string) bool { return s == it })
		}
	}
	return strings.Join(items, ",")
}

func splitList(s string) []string {
	var out []string
	for _, it := range strings.Split(s, ",") {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// alterConfigs is the legacy AlterConfigs: each resource's configs are
// replaced by the request's, so any config not named returns to its
// default.
func (a *adminHandlers) alterConfigs(ctx context.Context, _ *RequestContext, req *kmsg.AlterConfigsRequest) (Response, error) {
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	errs := alterEach(a, req.Resources,
		func(r *kmsg.AlterConfigsRequestResource) (kmsg.ConfigResourceType, string) {
			return r.ResourceType, r.ResourceName
		},
		func(r *kmsg.AlterConfigsRequestResource) error { return a.replaceConfigs(ctx, r, req.ValidateOnly) })
	for i, rr := range req.Resources {
		res := kmsg.NewAlterConfigsResponseResource()
		res.ResourceType, res.ResourceName = rr.ResourceType, rr.ResourceName
		res.ErrorCode, res.ErrorMessage = adminErrorCode(errs[i]), errorMessage(errs[i])
		resp.Resources = append(resp.Resources, res)
	}
	return Message(resp), nil
}

func (a *adminHandlers) replaceConfigs(ctx context.Context, rr *kmsg.AlterConfigsRequestResource, validateOnly bool) error {
	if err := a.checkAlterable(rr.ResourceType, rr.ResourceName); err != nil {
		return err
	}
	dup := repeated(rr.Configs, func(c kmsg.AlterConfigsRequestResourceConfig) string { return c.Name })
	ops := make([]broker.ConfigOp, 0, len(rr.Configs))
	for _, c := range rr.Configs {
		switch {
		case dup[c.Name]:
			return newAdminError(kerr.InvalidRequest, "config %q is given more than once", c.Name)
		case c.Value == nil:
			return newAdminError(kerr.InvalidRequest, "config %q has a null value", c.Name)
		}
		ops = append(ops, broker.ConfigOp{Name: c.Name, Value: *c.Value})
	}
	return a.applyTopicConfigs(ctx, rr.ResourceName, ops, true, validateOnly)
}

// checkAlterable refuses every resource but topics: broker configs are
// fixed when the broker starts.
func (a *adminHandlers) checkAlterable(typ kmsg.ConfigResourceType, name string) error {
	switch typ {
	case kmsg.ConfigResourceTypeTopic:
		return nil
	case kmsg.ConfigResourceTypeBroker:
		if err := a.checkBrokerName(name); err != nil {
			return err
		}
		return newAdminError(kerr.InvalidRequest, "broker configs are read-only on this broker: they are set when it starts")
	default:
		return newAdminError(kerr.InvalidRequest, "%s resources have no configs on this broker; topics do", typ)
	}
}

func (a *adminHandlers) applyTopicConfigs(ctx context.Context, topic string, ops []broker.ConfigOp, replace, validateOnly bool) error {
	if err := a.b.AlterTopicConfigs(ctx, topic, ops, replace, validateOnly); err != nil {
		return err
	}
	if !validateOnly {
		a.log.Info("topic configs changed", "topic", topic, "changes", len(ops), "replace", replace)
	}
	return nil
}
