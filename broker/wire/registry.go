package wire

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// HandlerFunc serves one request. req is the decoded kmsg request (for
// example *kmsg.FetchRequest) at the version the client sent. The response
// must be for the same key and version; nil writes no response at all (as
// Produce with acks=0 requires). A returned error closes the connection.
//
// ctx is cancelled when the connection or the server closes; a handler that
// waits (a long-poll Fetch, a JoinGroup) must watch it.
type HandlerFunc func(ctx context.Context, rc *RequestContext, req kmsg.Request) (Response, error)

// RequestContext describes the request a handler is serving and the
// connection it came on.
type RequestContext struct {
	// Session is the connection's shared state.
	Session *Session
	// APIKey and APIVersion are the request's key and version.
	APIKey     int16
	APIVersion int16
	// HeaderVersion is the request header version: 0 (no client id), 1,
	// or 2 (flexible, with tagged fields).
	HeaderVersion int16
	// CorrelationID is echoed in the response header by the server.
	CorrelationID int32
	// ClientID is the header's client id; empty when the client sent null.
	ClientID string

	gate   *orderGate // set for Ordered keys
	ticket int64
}

// RemoteAddr is the client's address.
func (rc *RequestContext) RemoteAddr() net.Addr { return rc.Session.RemoteAddr() }

// apiVersionsKey is ApiVersions' key; the server serves it itself.
const apiVersionsKey = 18

// Registry maps API keys to handlers and the version ranges they serve. Fill
// it before NewServer, which takes a copy: later changes do not reach a
// running server. A Registry is not safe for concurrent use.
type Registry struct {
	routes map[int16]route
}

type route struct {
	key        int16
	minVersion int16
	maxVersion int16
	handler    HandlerFunc
	advertised bool
	ordered    bool
}

func (r route) serves(version int16) bool {
	return version >= r.minVersion && version <= r.maxVersion
}

// HandleOption adjusts how a handler is registered.
type HandleOption interface {
	apply(*route)
}

type handleOptionFunc func(*route)

func (f handleOptionFunc) apply(r *route) { f(r) }

// Unadvertised serves the key without listing it in ApiVersions responses,
// so clients that discover features through ApiVersions never pick it.
func Unadvertised() HandleOption {
	return handleOptionFunc(func(r *route) { r.advertised = false })
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{routes: make(map[int16]route)}
}

// Handle registers h for requests with the given key and versions
// minVersion..maxVersion inclusive. The key must be one kmsg can decode, at
// versions it knows; ApiVersions is built into the server and cannot be
// registered; each key is registered once.
func (r *Registry) Handle(key, minVersion, maxVersion int16, h HandlerFunc, opts ...HandleOption) error {
	if h == nil {
		return fmt.Errorf("wire: register %s: nil handler", apiName(key))
	}
	if key == apiVersionsKey {
		return fmt.Errorf("wire: register %s: served by the server itself", apiName(key))
	}
	req := kmsg.RequestForKey(key)
	if req == nil {
		return fmt.Errorf("wire: register api key %d: unknown to kmsg", key)
	}
	if minVersion < 0 || minVersion > maxVersion || maxVersion > req.MaxVersion() {
		return fmt.Errorf("wire: register %s v%d..v%d: versions must lie within v0..v%d, min first",
			apiName(key), minVersion, maxVersion, req.MaxVersion())
	}
	if _, dup := r.routes[key]; dup {
		return fmt.Errorf("wire: register %s: already registered", apiName(key))
	}
	rt := route{key: key, minVersion: minVersion, maxVersion: maxVersion, handler: h, advertised: true}
	for _, o := range opts {
		o.apply(&rt)
	}
	r.routes[key] = rt
	return nil
}

// routeTable is the immutable copy of a Registry a Server dispatches with.
type routeTable struct {
	routes map[int16]route
	// advertised is what ApiVersions lists, sorted by key, built once.
	advertised []kmsg.ApiVersionsResponseApiKey
}

func newRouteTable(reg *Registry, apiVersions route) (*routeTable, error) {
	t := &routeTable{routes: make(map[int16]route)}
	if reg != nil {
		for k, rt := range reg.routes {
			t.routes[k] = rt
		}
	}
	if _, taken := t.routes[apiVersions.key]; taken {
		return nil, errors.New("wire: registry serves ApiVersions, which the server serves itself")
	}
	t.routes[apiVersions.key] = apiVersions
	for _, rt := range t.routes {
		if !rt.advertised {
			continue
		}
		t.advertised = append(t.advertised, kmsg.ApiVersionsResponseApiKey{
			ApiKey: rt.key, MinVersion: rt.minVersion, MaxVersion: rt.maxVersion,
		})
	}
	slices.SortFunc(t.advertised, func(a, b kmsg.ApiVersionsResponseApiKey) int {
		return int(a.ApiKey) - int(b.ApiKey)
	})
	return t, nil
}

func (t *routeTable) lookup(key int16) (route, bool) {
	rt, ok := t.routes[key]
	return rt, ok
}
