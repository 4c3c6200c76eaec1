package wire

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// apiVersionsMaxVersion is the newest ApiVersions the server answers, the
// same as Apache Kafka 4.0.
const apiVersionsMaxVersion = 4

func apiVersionsRoute(s *Server) route {
	return route{
		key:        apiVersionsKey,
		minVersion: 0,
		maxVersion: apiVersionsMaxVersion,
		handler:    s.handleAPIVersions,
		advertised: true,
	}
}

// handleAPIVersions lists the advertised keys and their version ranges.
//
// A client opens with the newest ApiVersions it knows. If that is newer than
// ours, the body cannot be decoded, and Kafka's rule applies: answer with a
// version 0 body carrying UNSUPPORTED_VERSION and the ranges, which every
// client version can read, so it retries with a version both sides know.
func (s *Server) handleAPIVersions(_ context.Context, rc *RequestContext, req kmsg.Request) (Response, error) {
	av, ok := req.(*kmsg.ApiVersionsRequest)
	if !ok {
		return nil, fmt.Errorf("wire: ApiVersions handler got %T", req)
	}
	rt, _ := s.routes.lookup(apiVersionsKey)
	if !rt.serves(av.Version) {
		resp := kmsg.NewPtrApiVersionsResponse()
		resp.Version = 0
		resp.ErrorCode = kerr.UnsupportedVersion.Code
		resp.ApiKeys = s.routes.advertised
		return Message(resp), nil
	}
	resp := av.ResponseKind().(*kmsg.ApiVersionsResponse)
	if av.Version >= 3 {
		if !validSoftwareField(av.ClientSoftwareName) || !validSoftwareField(av.ClientSoftwareVersion) {
			// Kafka rejects these rather than log attacker-chosen text.
			resp.ErrorCode = kerr.InvalidRequest.Code
			return Message(resp), nil
		}
		rc.Session.setClientSoftware(av.ClientSoftwareName, av.ClientSoftwareVersion)
	}
	resp.ApiKeys = s.routes.advertised
	return Message(resp), nil
}

// validSoftwareField applies Kafka's rule for client software names and
// versions: letters, digits, '-' and '.', starting and ending with a letter
// or digit.
func validSoftwareField(s string) bool {
	if s == "" {
		return false
	}
	alnum := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !alnum(c) && ((c != '-' && c != '.') || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}
