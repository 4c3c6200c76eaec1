package wire

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/eddy-streams/eddy/broker"
)

// BrokerConfig configures a protocol listener serving an embedded broker.
type BrokerConfig struct {
	// Broker answers every request; required.
	Broker *broker.Broker
	// AdvertisedHost and AdvertisedPort are the address Metadata and
	// FindCoordinator tell clients to connect to (Kafka's
	// advertised.listeners).
	AdvertisedHost string
	AdvertisedPort int32
	// Logger, MaxRequestSize: see Config.
	Logger         *slog.Logger
	MaxRequestSize int32
}

// brokerHandlers holds what every API handler of the embedded broker needs.
type brokerHandlers struct {
	b    *broker.Broker
	host string
	port int32
	log  *slog.Logger
}

// NewBrokerServer returns a Server answering the Kafka APIs eddy supports
// from an embedded broker.
func NewBrokerServer(cfg BrokerConfig) (*Server, error) {
	if cfg.Broker == nil {
		return nil, fmt.Errorf("wire: BrokerConfig.Broker is nil")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &brokerHandlers{b: cfg.Broker, host: cfg.AdvertisedHost, port: cfg.AdvertisedPort, log: cfg.Logger}
	reg := NewRegistry()
	for _, register := range []func(*Registry, *brokerHandlers) error{registerDataAPIs, registerGroupAPIs, registerAdminAPIs} {
		if err := register(reg, h); err != nil {
			return nil, err
		}
	}
	return NewServer(Config{Handlers: reg, Logger: cfg.Logger, MaxRequestSize: cfg.MaxRequestSize})
}

// SplitHostPort parses an advertised "host:port".
func SplitHostPort(addr string) (string, int32, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("wire: address %q: %w", addr, err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("wire: port in %q: %w", addr, err)
	}
	return host, int32(p), nil
}
