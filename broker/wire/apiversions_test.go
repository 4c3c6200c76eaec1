package wire

import (
	"context"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const consumerGroupHeartbeatKey = 68

func unusedHandler(context.Context, *RequestContext, kmsg.Request) (Response, error) {
	return nil, nil
}

// apiVersionsServer serves Metadata v0..v9 and an unadvertised
// ConsumerGroupHeartbeat.
func apiVersionsServer(t *testing.T) *testServer {
	reg := NewRegistry()
	mustHandle(t, reg, 3, 0, 9, metadataEcho)
	mustHandle(t, reg, consumerGroupHeartbeatKey, 0, 1, func(_ context.Context, _ *RequestContext, req kmsg.Request) (Response, error) {
		resp := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
		resp.ErrorCode = kerr.UnsupportedVersion.Code
		return Message(resp), nil
	}, Unadvertised())
	return startServer(t, Config{Handlers: reg})
}

// wantAdvertised is what apiVersionsServer lists.
var wantAdvertised = []kmsg.ApiVersionsResponseApiKey{
	{ApiKey: 3, MinVersion: 0, MaxVersion: 9},
	{ApiKey: apiVersionsKey, MinVersion: 0, MaxVersion: apiVersionsMaxVersion},
}

func checkAdvertised(t *testing.T, got []kmsg.ApiVersionsResponseApiKey) {
	t.Helper()
	same := func(a, b kmsg.ApiVersionsResponseApiKey) bool {
		return a.ApiKey == b.ApiKey && a.MinVersion == b.MinVersion && a.MaxVersion == b.MaxVersion
	}
	if !slices.EqualFunc(got, wantAdvertised, same) {
		t.Fatalf("advertised %+v, want %+v", got, wantAdvertised)
	}
}

func TestAPIVersionsAnswersKgo(t *testing.T) {
	ts := apiVersionsServer(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(ts.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	kresp, err := cl.Request(ctx, kmsg.NewPtrApiVersionsRequest())
	if err != nil {
		t.Fatalf("kgo ApiVersions: %v", err)
	}
	resp := kresp.(*kmsg.ApiVersionsResponse)
	if resp.ErrorCode != 0 {
		t.Fatalf("error code %d", resp.ErrorCode)
	}
	checkAdvertised(t, resp.ApiKeys)
}

func TestAPIVersionsEverySupportedVersion(t *testing.T) {
	ts := apiVersionsServer(t)
	c := dial(t, ts.addr)
	for v := int16(0); v <= apiVersionsMaxVersion; v++ {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version = v
		req.ClientSoftwareName, req.ClientSoftwareVersion = "eddy-test", "1.0.0"
		resp := c.roundTrip(req, int32(100+v)).(*kmsg.ApiVersionsResponse)
		if resp.ErrorCode != 0 {
			t.Fatalf("v%d: error code %d", v, resp.ErrorCode)
		}
		checkAdvertised(t, resp.ApiKeys)
	}
}

func TestAPIVersionsTooNewAnswersV0WithUnsupportedVersion(t *testing.T) {
	ts := apiVersionsServer(t)
	c := dial(t, ts.addr)

	// v5 is one kmsg can encode; v40 has a body nobody can decode.
	newer := kmsg.NewPtrApiVersionsRequest()
	newer.Version = apiVersionsMaxVersion + 1
	newer.ClientSoftwareName, newer.ClientSoftwareVersion = "x", "1"
	c.send(newer, 7)
	far := binary.BigEndian.AppendUint32(nil, 0) // size, patched below
	far = binary.BigEndian.AppendUint16(far, apiVersionsKey)
	far = binary.BigEndian.AppendUint16(far, 40)
	far = binary.BigEndian.AppendUint32(far, 8)
	far = append(far, 0xff, 0xff, 0x99, 0x13, 0x37)
	binary.BigEndian.PutUint32(far, uint32(len(far)-4))
	c.sendRaw(far)

	for _, corr := range []int32{7, 8} {
		// Response header v0 and a v0 body, whatever the request version.
		resp := kmsg.NewPtrApiVersionsResponse()
		resp.Version = 0
		c.receive(resp, corr)
		if resp.ErrorCode != kerr.UnsupportedVersion.Code {
			t.Fatalf("correlation %d: error code %d, want UNSUPPORTED_VERSION", corr, resp.ErrorCode)
		}
		checkAdvertised(t, resp.ApiKeys)
	}

	// The client downgrades on the same connection.
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "x", "1"
	if resp := c.roundTrip(req, 9).(*kmsg.ApiVersionsResponse); resp.ErrorCode != 0 {
		t.Fatalf("after downgrade: error code %d", resp.ErrorCode)
	}
	if lines := ts.logs.linesContaining("closing connection"); len(lines) != 0 {
		t.Fatalf("unexpected close logged: %q", lines)
	}
}

func TestAPIVersionsRejectsInvalidClientSoftware(t *testing.T) {
	ts := apiVersionsServer(t)
	c := dial(t, ts.addr)
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "bad name", "1.0"
	resp := c.roundTrip(req, 1).(*kmsg.ApiVersionsResponse)
	if resp.ErrorCode != kerr.InvalidRequest.Code || len(resp.ApiKeys) != 0 {
		t.Fatalf("got error %d with %d keys, want INVALID_REQUEST and none", resp.ErrorCode, len(resp.ApiKeys))
	}
}

func TestUnadvertisedKeyIsServed(t *testing.T) {
	ts := apiVersionsServer(t)
	c := dial(t, ts.addr)
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Group = "g"
	resp := c.roundTrip(req, 3).(*kmsg.ConsumerGroupHeartbeatResponse)
	if resp.ErrorCode != kerr.UnsupportedVersion.Code {
		t.Fatalf("handler's answer not delivered: error code %d", resp.ErrorCode)
	}
}

func TestValidSoftwareField(t *testing.T) {
	for s, want := range map[string]bool{
		"kgo": true, "v1.22.3": true, "librdkafka": true, "2.3.0": true, "a": true, "a-b.c": true,
		"": false, "-a": false, "a-": false, ".a": false, "a.": false, "a b": false, "v1+meta": false, "ü": false,
	} {
		if got := validSoftwareField(s); got != want {
			t.Errorf("validSoftwareField(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestRegistryRejectsBadRegistrations(t *testing.T) {
	reg := NewRegistry()
	mustHandle(t, reg, 3, 0, 9, metadataEcho)
	for name, reg := range map[string]func() error{
		"nil handler":       func() error { return reg.Handle(1, 0, 4, nil) },
		"ApiVersions":       func() error { return reg.Handle(apiVersionsKey, 0, 3, unusedHandler) },
		"unknown key":       func() error { return reg.Handle(999, 0, 0, unusedHandler) },
		"negative min":      func() error { return reg.Handle(1, -1, 4, unusedHandler) },
		"min above max":     func() error { return reg.Handle(1, 5, 4, unusedHandler) },
		"beyond kmsg's max": func() error { return reg.Handle(1, 0, 200, unusedHandler) },
		"duplicate":         func() error { return reg.Handle(3, 0, 1, unusedHandler) },
	} {
		if err := reg(); err == nil {
			t.Errorf("%s: registered, want an error", name)
		}
	}
}
