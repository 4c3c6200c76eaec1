package wire

import (
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// frameWith builds a request frame from a header and raw body bytes.
func frameWith(key, version int16, correlationID int32, headerTail, body []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(key))
	b = binary.BigEndian.AppendUint16(b, uint16(version))
	b = binary.BigEndian.AppendUint32(b, uint32(correlationID))
	b = append(b, headerTail...)
	b = append(b, body...)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// nullClientID is a v1 header's null client id; with a trailing 0 it is a
// v2 header's client id and empty tag section.
var nullClientID = []byte{0xff, 0xff}

func badInputServer(t *testing.T) *testServer {
	reg := NewRegistry()
	mustHandle(t, reg, 3, 1, 9, metadataEcho)
	mustHandle(t, reg, 10, 0, 4, func(context.Context, *RequestContext, kmsg.Request) (Response, error) {
		return nil, errors.New("coordinator lookup exploded")
	})
	mustHandle(t, reg, 11, 0, 5, func(context.Context, *RequestContext, kmsg.Request) (Response, error) {
		panic("join group bug")
	})
	mustHandle(t, reg, 12, 0, 4, func(_ context.Context, _ *RequestContext, req kmsg.Request) (Response, error) {
		resp := req.ResponseKind()
		resp.SetVersion(req.GetVersion() + 1)
		return Message(resp), nil
	})
	return startServer(t, Config{Handlers: reg})
}

func TestBadInputClosesOnlyThatConnection(t *testing.T) {
	ts := badInputServer(t)
	healthy := dial(t, ts.addr)
	var corr int32
	checkHealthy := func(t *testing.T) {
		t.Helper()
		corr++
		if got := echoedTopic(t, healthy.roundTrip(metadataRequest(4, "alive"), corr)); got != "alive" {
			t.Fatalf("healthy connection got %q", got)
		}
	}
	checkHealthy(t)

	undecodable := frameWith(3, 9, 1, append(nullClientID, 0), []byte{0x90, 0x4e}) // 10,000 topics, none sent
	cases := []struct {
		name      string
		send      []byte
		halfClose bool
		wantLog   string
	}{
		{name: "negative length", send: []byte{0xff, 0xff, 0xff, 0xfe}, wantLog: "request size out of bounds: -2 bytes"},
		{name: "length below a header", send: []byte{0, 0, 0, 3, 0, 0, 0}, wantLog: "request size out of bounds: 3 bytes"},
		{name: "length beyond the limit", send: []byte{0x7f, 0xff, 0xff, 0xff}, wantLog: "request size out of bounds: 2147483647 bytes"},
		{name: "unknown api key", send: frameWith(9999, 0, 1, nullClientID, nil), wantLog: "api key not served"},
		{name: "kmsg key not registered", send: encodeRequest(kmsg.NewPtrProduceRequest(), 1), wantLog: "Produce v0 (correlation id 1): wire: api key not served"},
		{name: "version below range", send: encodeRequest(metadataRequest(0, "t"), 5), wantLog: "Metadata v0 (correlation id 5): wire: api version not served: served v1..v9"},
		{name: "version above range", send: encodeRequest(metadataRequest(10, "t"), 6), wantLog: "api version not served"},
		{name: "truncated request", send: frameWith(3, 4, 1, nullClientID, make([]byte, 100))[:40], halfClose: true, wantLog: "connection closed inside a request: got 36 of 110 bytes"},
		{name: "truncated size prefix", send: []byte{0, 0}, halfClose: true, wantLog: "size prefix cut short"},
		{name: "body does not decode", send: undecodable, wantLog: "request body does not decode"},
		{name: "client id past the end", send: frameWith(3, 4, 1, []byte{0x01, 0xf4, 'a'}, nil), wantLog: "malformed request header: client id"},
		{name: "header tags past the end", send: frameWith(3, 9, 1, []byte{0xff, 0xff, 1, 0, 50}, nil), wantLog: "malformed request header: tagged fields"},
		{name: "handler error", send: encodeRequest(kmsg.NewPtrFindCoordinatorRequest(), 2), wantLog: "handler failed: coordinator lookup exploded"},
		{name: "handler panic", send: encodeRequest(kmsg.NewPtrJoinGroupRequest(), 2), wantLog: "handler failed: panic: join group bug"},
		{name: "response of the wrong version", send: encodeRequest(kmsg.NewPtrHeartbeatRequest(), 2), wantLog: "unusable response: v1 response to a v0 request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(ts.logs.linesContaining("closing connection"))
			bad := dial(t, ts.addr)
			bad.sendRaw(tc.send)
			if tc.halfClose {
				if err := bad.conn.CloseWrite(); err != nil {
					t.Fatal(err)
				}
			}
			bad.expectClosed()
			closes := ts.logs.linesContaining("closing connection")
			if len(closes) != before+1 {
				t.Fatalf("want one new close line, got %q", closes[before:])
			}
			if line := closes[before]; !containsAll(line, tc.wantLog, "remote=127.0.0.1:", "conn_id=") {
				t.Fatalf("close line %q does not say %q", line, tc.wantLog)
			}
			checkHealthy(t)
		})
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func TestOversizedLengthAllocatesNothingOfThatSize(t *testing.T) {
	ts := startServer(t, Config{})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 4 {
		c := dial(t, ts.addr)
		c.sendRaw([]byte{0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0})
		c.expectClosed()
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Fatalf("allocated %d bytes while rejecting oversized requests", grew)
	}
}

func TestClaimedSizeIsNotAllocatedBeforeBytesArrive(t *testing.T) {
	// Below the limit a claimed size is legal, but a client that claims
	// 100 MiB and sends a few bytes must not cost 100 MiB.
	ts := startServer(t, Config{})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	c := dial(t, ts.addr)
	c.sendRaw(frameWith(3, 4, 1, nullClientID, make([]byte, 1000))[:4+500])
	claim := binary.BigEndian.AppendUint32(nil, 100<<20-1)
	c2 := dial(t, ts.addr)
	c2.sendRaw(append(claim, make([]byte, 100)...))
	if err := c.conn.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if err := c2.conn.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	c.expectClosed()
	c2.expectClosed()
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Fatalf("allocated %d bytes for requests that sent a few hundred", grew)
	}
}
