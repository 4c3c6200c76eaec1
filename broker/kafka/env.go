package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/IBM/sarama"
)

// The environment variables ConfigFromEnv reads.
const (
	// EnvBrokers lists the bootstrap servers, comma separated (required).
	EnvBrokers = "EDDY_KAFKA_BROKERS"
	// EnvClientID sets Config.ClientID.
	EnvClientID = "EDDY_KAFKA_CLIENT_ID"
	// EnvVersion sets Config.Version, as "4.1.0".
	EnvVersion = "EDDY_KAFKA_VERSION"
	// EnvSASLMechanism, EnvSASLUser and EnvSASLPassword set Config.SASL.
	EnvSASLMechanism = "EDDY_KAFKA_SASL_MECHANISM"
	EnvSASLUser      = "EDDY_KAFKA_SASL_USER"
	EnvSASLPassword  = "EDDY_KAFKA_SASL_PASSWORD"
	// EnvTLS turns TLS on with the system's roots ("true", "1").
	EnvTLS = "EDDY_KAFKA_TLS"
	// EnvTLSCAFile names a PEM file of CA certificates to trust instead of
	// the system's; setting it turns TLS on.
	EnvTLSCAFile = "EDDY_KAFKA_TLS_CA_FILE"
	// EnvDialTimeout and EnvConnectTimeout set the timeouts of the same
	// names, as Go durations ("3s").
	EnvDialTimeout    = "EDDY_KAFKA_DIAL_TIMEOUT"
	EnvConnectTimeout = "EDDY_KAFKA_CONNECT_TIMEOUT"
)

// ConfigFromEnv builds a Config from the EDDY_KAFKA_* environment variables
// (the Env* constants). EDDY_KAFKA_BROKERS is required; the rest are
// optional. Values that do not parse are errors naming the variable.
func ConfigFromEnv() (Config, error) { return configFrom(os.LookupEnv) }

func configFrom(lookup func(string) (string, bool)) (Config, error) {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	var c Config
	for _, b := range strings.Split(get(EnvBrokers), ",") {
		if b = strings.TrimSpace(b); b != "" {
			c.Brokers = append(c.Brokers, b)
		}
	}
	if len(c.Brokers) == 0 {
		return c, fmt.Errorf("kafka: %s is not set", EnvBrokers)
	}
	c.ClientID = get(EnvClientID)
	if v := get(EnvVersion); v != "" {
		ver, err := sarama.ParseKafkaVersion(v)
		if err != nil {
			return c, fmt.Errorf("kafka: %s=%q: %w", EnvVersion, v, err)
		}
		c.Version = ver
	}
	c.SASL = SASL{Mechanism: strings.ToUpper(get(EnvSASLMechanism)), User: get(EnvSASLUser)}
	c.SASL.Password, _ = lookup(EnvSASLPassword) // spaces may belong to a password
	for name, dst := range map[string]*time.Duration{EnvDialTimeout: &c.DialTimeout, EnvConnectTimeout: &c.ConnectTimeout} {
		if v := get(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return c, fmt.Errorf("kafka: %s=%q is not a positive duration", name, v)
			}
			*dst = d
		}
	}
	useTLS := false
	if v := get(EnvTLS); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("kafka: %s=%q is not a boolean", EnvTLS, v)
		}
		useTLS = b
	}
	if file := get(EnvTLSCAFile); file != "" {
		pem, err := os.ReadFile(file)
		if err != nil {
			return c, fmt.Errorf("kafka: %s: %w", EnvTLSCAFile, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return c, fmt.Errorf("kafka: %s=%s holds no PEM certificate", EnvTLSCAFile, file)
		}
		c.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	} else if useTLS {
		c.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return c, nil
}
