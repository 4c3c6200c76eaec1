package wire

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
)

// dataBroker is an embedded broker on a real data directory, served on a
// loopback port by NewBrokerServer, for the data-path handler tests.
type dataBroker struct {
	b    *broker.Broker
	h    *brokerHandlers // the handlers the server uses, for direct calls
	addr string
	host string
	port int32
}

func startDataBroker(t *testing.T, opts ...func(*broker.Config)) *dataBroker {
	t.Helper()
	cfg := broker.Config{Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&cfg)
	}
	b, err := broker.Open(cfg)
	if err != nil {
		t.Fatalf("open broker: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := SplitHostPort(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewBrokerServer(BrokerConfig{Broker: b, AdvertisedHost: host, AdvertisedPort: port, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("NewBrokerServer: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		if err := b.Close(); err != nil {
			t.Errorf("close broker: %v", err)
		}
	})
	return &dataBroker{
		b:    b,
		h:    &brokerHandlers{b: b, host: host, port: port, log: slog.New(slog.DiscardHandler)},
		addr: ln.Addr().String(),
		host: host,
		port: port,
	}
}

// client returns a kgo client of the broker, closed when the test ends.
func (d *dataBroker) client(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(d.addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// clientAt returns a kgo client that sends key at exactly version.
func (d *dataBroker) clientAt(t *testing.T, key, version int16) *kgo.Client {
	t.Helper()
	versions := kversion.Stable()
	versions.SetMaxKeyVersion(key, version)
	return d.client(t, kgo.MaxVersions(versions))
}

func (d *dataBroker) createTopic(t *testing.T, name string, partitions int32) {
	t.Helper()
	if err := d.b.CreateTopic(context.Background(), broker.TopicSpec{Name: name, Partitions: partitions}, false); err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
}

// append writes n records with values "<prefix>-<i>" of valueSize bytes
// (at least) to a partition through the broker's Go API, as one batch, and
// returns its base offset.
func (d *dataBroker) append(t *testing.T, topic string, partition int32, prefix string, n, valueSize int) int64 {
	t.Helper()
	p, err := d.b.Partition(topic, partition)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Produce(context.Background(), dataBatch(t, prefix, n, valueSize), true)
	if err != nil {
		t.Fatalf("append to %s-%d: %v", topic, partition, err)
	}
	return res.BaseOffset
}

// dataBatch encodes a RecordBatch of n records.
func dataBatch(t testing.TB, prefix string, n, valueSize int) []byte {
	t.Helper()
	bb := batch.NewBuilder(batch.BuilderOptions{})
	for i := range n {
		v := []byte(fmt.Sprintf("%s-%d", prefix, i))
		for len(v) < valueSize {
			v = append(v, '.')
		}
		bb.Add(batch.Record{Key: []byte(prefix), Value: v, Timestamp: 1_700_000_000_000 + int64(i)})
	}
	data, err := bb.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// dataRequest issues a request through a kgo client with a deadline.
func dataRequest[R kmsg.Response](t *testing.T, cl *kgo.Client, req kmsg.Request) R {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	kresp, err := cl.Request(ctx, req)
	if err != nil {
		t.Fatalf("%s v%d: %v", apiName(req.Key()), req.GetVersion(), err)
	}
	resp, ok := kresp.(R)
	if !ok {
		t.Fatalf("%s: response is %T", apiName(req.Key()), kresp)
	}
	return resp
}

// dataRecordValues decodes the values of the records in a fetch's record
// batches, checking their offsets run without gaps from first.
func dataRecordValues(t *testing.T, batches []byte, first int64) []string {
	t.Helper()
	var values []string
	next := first
	for rest := batches; len(rest) > 0; {
		one, r, err := batch.Next(rest)
		if err != nil {
			t.Fatalf("record batches: %v", err)
		}
		rest = r
		it, err := batch.NewIterator(one)
		if err != nil {
			t.Fatal(err)
		}
		for it.Next() {
			rec := it.Record()
			if rec.Offset != next {
				t.Fatalf("record at offset %d, want %d", rec.Offset, next)
			}
			next++
			values = append(values, string(rec.Value))
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return values
}

func TestDataAPIsAdvertised(t *testing.T) {
	d := startDataBroker(t)
	c := dial(t, d.addr)
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "test", "1"
	resp := c.roundTrip(req, 1).(*kmsg.ApiVersionsResponse)
	want := map[int16][2]int16{
		produceKey: {0, 13}, fetchKey: {4, 18}, listOffsetsKey: {0, 11}, metadataKey: {0, 13},
		findCoordinatorKey: {0, 6}, initProducerIDKey: {0, 5}, offsetForLeaderEpochKey: {2, 4}, describeClusterKey: {0, 2},
	}
	for _, k := range resp.ApiKeys {
		if k.ApiKey == consumerGroupHeartbeatKey {
			t.Errorf("ConsumerGroupHeartbeat advertised; clients must stay on the classic group protocol")
		}
		if w, ok := want[k.ApiKey]; ok {
			if k.MinVersion != w[0] || k.MaxVersion != w[1] {
				t.Errorf("%s advertised v%d-v%d, want v%d-v%d", apiName(k.ApiKey), k.MinVersion, k.MaxVersion, w[0], w[1])
			}
			delete(want, k.ApiKey)
		}
	}
	for k := range want {
		t.Errorf("%s not advertised", apiName(k))
	}
}
