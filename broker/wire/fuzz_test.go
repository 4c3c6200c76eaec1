package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"runtime"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// everyKeyRoutes serves every key kmsg knows at every version it knows, so
// fuzzing reaches every decoder.
func everyKeyRoutes(t testing.TB) *routeTable {
	reg := NewRegistry()
	for key := range int16(1000) {
		req := kmsg.RequestForKey(key)
		if req == nil || key == apiVersionsKey {
			continue
		}
		mustHandle(t, reg, key, 0, req.MaxVersion(), unusedHandler)
	}
	routes, err := newRouteTable(reg, route{key: apiVersionsKey, maxVersion: apiVersionsMaxVersion, handler: unusedHandler})
	if err != nil {
		t.Fatal(err)
	}
	return routes
}

// decodeAllocBound is how many bytes decoding a frame of n bytes may
// allocate. Decoding turns wire bytes into Go structs, so it cannot stay
// within n itself; what it must never do is follow a claimed length or count
// past the bytes actually present. kmsg admits an array of c elements only
// when c bytes remain, so at worst every remaining byte becomes one element
// of the largest element type, twice over (the array that fails to decode
// is allocated before it fails), plus size-class rounding, strings copied
// out of the frame, and a fixed allowance for the request struct itself.
func decodeAllocBound(n int) uint64 {
	perByte := 2*largestArrayElement()*5/4 + 1
	return uint64(n)*uint64(perByte) + 16<<10
}

// largestArrayElement is the size of the largest struct kmsg keeps in an
// array of any request.
func largestArrayElement() uintptr {
	var largest uintptr
	seen := make(map[reflect.Type]bool)
	var walk func(reflect.Type)
	walk = func(ty reflect.Type) {
		if seen[ty] {
			return
		}
		seen[ty] = true
		switch ty.Kind() {
		case reflect.Slice:
			largest = max(largest, ty.Elem().Size())
			walk(ty.Elem())
		case reflect.Pointer:
			walk(ty.Elem())
		case reflect.Struct:
			for i := range ty.NumField() {
				walk(ty.Field(i).Type)
			}
		}
	}
	for key := range int16(1000) {
		if req := kmsg.RequestForKey(key); req != nil {
			walk(reflect.TypeOf(req))
		}
	}
	return largest
}

func fuzzSeeds() [][]byte {
	var seeds [][]byte
	add := func(req kmsg.Request, version int16) {
		req.SetVersion(version)
		seeds = append(seeds, encodeRequest(req, 42)[4:])
	}
	produce := kmsg.NewPtrProduceRequest()
	pt := kmsg.NewProduceRequestTopic()
	pt.Topic = "events"
	pp := kmsg.NewProduceRequestTopicPartition()
	pp.Records = []byte("not really a record batch")
	pt.Partitions = append(pt.Partitions, pp)
	produce.Topics = append(produce.Topics, pt)
	add(produce, 3)
	add(produce, 9)
	fetch := kmsg.NewPtrFetchRequest()
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "events"
	ft.Partitions = append(ft.Partitions, kmsg.NewFetchRequestTopicPartition())
	fetch.Topics = append(fetch.Topics, ft)
	add(fetch, 4)
	add(fetch, 12)
	for _, v := range []int16{0, 3, 4} {
		av := kmsg.NewPtrApiVersionsRequest()
		av.ClientSoftwareName, av.ClientSoftwareVersion = "kgo", "1.0"
		add(av, v)
	}
	add(metadataRequest(4, "t"), 4)
	add(metadataRequest(9, "t"), 9)
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group = "g"
	join.Protocols = append(join.Protocols, kmsg.NewJoinGroupRequestProtocol())
	add(join, 5)
	add(join, 9)
	seeds = append(seeds,
		nil,
		[]byte{0, 18, 0, 99, 0, 0, 0, 1}, // ApiVersions from the future
		[]byte{0, 3, 0, 9, 0, 0, 0, 1, 0xff, 0xff, 0x81},                   // flexible header, torn tags
		[]byte{0, 3, 0, 4, 0, 0, 0, 1, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff}, // 2^31-1 topics
	)
	return seeds
}

// FuzzDecodeRequest feeds arbitrary bytes to the request decoder as a frame
// (header and body). It must not panic, must allocate in proportion to the
// frame rather than to any length the frame claims, and must return either
// an error or a request whose header matches the frame and which survives a
// round trip through kmsg's encoder.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	routes := everyKeyRoutes(f)
	f.Fuzz(func(t *testing.T, frame []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		req, err := routes.decodeRequest(frame)
		runtime.ReadMemStats(&after)
		if grew, bound := after.TotalAlloc-before.TotalAlloc, decodeAllocBound(len(frame)); grew > bound {
			t.Fatalf("decoding %d bytes allocated %d, bound %d", len(frame), grew, bound)
		}
		if (req == nil) == (err == nil) {
			t.Fatalf("got request %v and error %v: want exactly one", req, err)
		}
		if err != nil {
			if !knownDecodeError(err) {
				t.Fatalf("error outside the decoder's vocabulary: %v", err)
			}
			return
		}
		checkDecoded(t, routes, frame, req)
	})
}

func knownDecodeError(err error) bool {
	for _, known := range []error{errMalformedHeader, errMalformedBody, errUnknownAPIKey, errUnsupportedVersion} {
		if errors.Is(err, known) {
			return true
		}
	}
	return false
}

func checkDecoded(t *testing.T, routes *routeTable, frame []byte, req *decodedRequest) {
	h := req.header
	if h.apiKey != int16(frame[0])<<8|int16(frame[1]) || h.apiVersion != int16(frame[2])<<8|int16(frame[3]) {
		t.Fatalf("header %+v does not match the frame", h)
	}
	if req.msg.Key() != h.apiKey || req.msg.GetVersion() != h.apiVersion {
		t.Fatalf("decoded %s v%d for header %+v", apiName(req.msg.Key()), req.msg.GetVersion(), h)
	}
	if !req.route.serves(h.apiVersion) {
		if h.apiKey != apiVersionsKey {
			t.Fatalf("decoded %s v%d, which is not served", apiName(h.apiKey), h.apiVersion)
		}
		return // too new to decode: answered with UNSUPPORTED_VERSION
	}
	again, err := routes.decodeRequest(reencode(h, req.msg))
	if err != nil {
		t.Fatalf("re-encoded request does not decode: %v", err)
	}
	if again.header.correlationID != h.correlationID || again.header.clientID != h.clientID {
		t.Fatalf("header changed in a round trip: %+v then %+v", h, again.header)
	}
	if a, b := req.msg.AppendTo(nil), again.msg.AppendTo(nil); !bytes.Equal(a, b) {
		t.Fatalf("body changed in a round trip:\n% x\n% x", a, b)
	}
}

// reencode frames msg with header h. kmsg's RequestFormatter is not used
// because it drops the body of ControlledShutdown v0, the one request with a
// version 0 header.
func reencode(h requestHeader, msg kmsg.Request) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(h.apiKey))
	b = binary.BigEndian.AppendUint16(b, uint16(h.apiVersion))
	b = binary.BigEndian.AppendUint32(b, uint32(h.correlationID))
	if h.headerVersion >= 1 {
		b = binary.BigEndian.AppendUint16(b, uint16(len(h.clientID)))
		b = append(b, h.clientID...)
	}
	if h.headerVersion >= 2 {
		b = append(b, 0)
	}
	return msg.AppendTo(b)
}
