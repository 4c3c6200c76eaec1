package kafka

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/IBM/sarama"
)

// Config configures a Client. Only Brokers is required.
type Config struct {
	// Brokers are the bootstrap servers, host:port.
	Brokers []string
	// ClientID names the client in the cluster's logs and quotas; "eddy" by
	// default.
	ClientID string
	// Version is the newest Kafka version the client may assume; the zero
	// value means the newest sarama knows. Requests are capped further by
	// the versions each broker advertises.
	Version sarama.KafkaVersion
	// TLS, when set, encrypts every connection with this configuration.
	TLS *tls.Config
	// SASL authenticates every connection when Mechanism is set.
	SASL SASL
	// DialTimeout bounds one TCP (and TLS) connection attempt; 5s by default.
	DialTimeout time.Duration
	// ConnectTimeout bounds New: if no bootstrap server has answered a
	// metadata request by then, New fails with ErrUnreachable. 10s by
	// default.
	ConnectTimeout time.Duration
	// RequestTimeout bounds each request's round trip and is the produce
	// timeout sent to the cluster; 30s by default. Fetch waits are capped
	// one second below it.
	RequestTimeout time.Duration
	// Retries is how often an operation is retried after a retriable error
	// (leader moved, connection broken); 5 by default, -1 for none.
	Retries int
	// RetryBackoff is the first pause between retries, doubled each time
	// up to one second; 100ms by default.
	RetryBackoff time.Duration
	// DisableIdempotence turns off idempotent appends. By default Append
	// gets a producer id (InitProducerId) and sequences its batches, so a
	// retried append is never written twice; if the cluster refuses a
	// producer id (no IdempotentWrite permission), appends go on without.
	DisableIdempotence bool
	// Logger receives retries and fallbacks; slog.Default() if nil.
	Logger *slog.Logger
}

// SASL names a SASL mechanism and its credentials.
type SASL struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty disables
	// SASL.
	Mechanism string
	User      string
	Password  string
}

// withDefaults returns c with its zero fields set to their defaults, or an
// error naming the first invalid field.
func (c Config) withDefaults() (Config, error) {
	if len(c.Brokers) == 0 {
		return c, fmt.Errorf("kafka: config: no bootstrap brokers (set Brokers or EDDY_KAFKA_BROKERS)")
	}
	for _, b := range c.Brokers {
		if !strings.Contains(b, ":") {
			return c, fmt.Errorf("kafka: config: broker %q is not host:port", b)
		}
	}
	if c.ClientID == "" {
		c.ClientID = "eddy"
	}
	if c.Version == (sarama.KafkaVersion{}) {
		c.Version = sarama.MaxVersion
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = 10 * time.Second
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.Retries == 0 {
		c.Retries = 5
	} else if c.Retries < 0 {
		c.Retries = 0
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = 100 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	switch {
	case c.DialTimeout < 0, c.ConnectTimeout < 0, c.RetryBackoff < 0:
		return c, fmt.Errorf("kafka: config: negative timeout or backoff")
	case c.RequestTimeout < 2*time.Second:
		return c, fmt.Errorf("kafka: config: RequestTimeout %v is below 2s", c.RequestTimeout)
	}
	switch c.SASL.Mechanism {
	case "", sarama.SASLTypePlaintext, sarama.SASLTypeSCRAMSHA256, sarama.SASLTypeSCRAMSHA512:
	default:
		return c, fmt.Errorf("kafka: config: SASL mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", c.SASL.Mechanism)
	}
	if c.SASL.Mechanism != "" && c.SASL.User == "" {
		return c, fmt.Errorf("kafka: config: SASL %s needs a user", c.SASL.Mechanism)
	}
	return c, nil
}

// sarama turns a defaulted Config into sarama's. The client never creates
// topics as a side effect of a metadata request. It keeps metadata for all
// topics (sarama's default, refreshed every ten minutes): the admin API
// needs the controller, which only a full metadata request names.
func (c Config) sarama() (*sarama.Config, error) {
	sc := sarama.NewConfig()
	sc.ClientID = c.ClientID
	sc.Version = c.Version
	sc.Net.DialTimeout = c.DialTimeout
	sc.Net.ReadTimeout = c.RequestTimeout
	sc.Net.WriteTimeout = c.RequestTimeout
	if c.TLS != nil {
		sc.Net.TLS.Enable = true
		sc.Net.TLS.Config = c.TLS
	}
	if c.SASL.Mechanism != "" {
		sc.Net.SASL.Enable = true
		sc.Net.SASL.Handshake = true
		sc.Net.SASL.Mechanism = sarama.SASLMechanism(c.SASL.Mechanism)
		sc.Net.SASL.User = c.SASL.User
		sc.Net.SASL.Password = c.SASL.Password
		switch c.SASL.Mechanism {
		case sarama.SASLTypeSCRAMSHA256:
			sc.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return newSCRAM(sha256Hash) }
		case sarama.SASLTypeSCRAMSHA512:
			sc.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return newSCRAM(sha512Hash) }
		}
	}
	sc.Metadata.AllowAutoTopicCreation = false
	sc.Metadata.Full = true
	sc.Metadata.Retry.Max = 2
	sc.Metadata.Retry.Backoff = c.RetryBackoff
	sc.Metadata.Timeout = c.ConnectTimeout
	sc.Admin.Timeout = c.RequestTimeout
	sc.Admin.Retry.Max = c.Retries
	sc.Admin.Retry.Backoff = c.RetryBackoff
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("kafka: config: %w", err)
	}
	return sc, nil
}
