package kafka

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestConfigFromEnv(t *testing.T) {
	c, err := configFrom(lookupIn(map[string]string{
		EnvBrokers:        " k1:9092, k2:9093 ,",
		EnvClientID:       "app",
		EnvVersion:        "3.9.0",
		EnvSASLMechanism:  "scram-sha-512",
		EnvSASLUser:       "alice",
		EnvSASLPassword:   " secret ",
		EnvTLS:            "true",
		EnvDialTimeout:    "2s",
		EnvConnectTimeout: "7s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Brokers, "|") != "k1:9092|k2:9093" || c.ClientID != "app" || c.Version != sarama.V3_9_0_0 ||
		c.SASL != (SASL{Mechanism: "SCRAM-SHA-512", User: "alice", Password: " secret "}) || c.TLS == nil ||
		c.DialTimeout != 2*time.Second || c.ConnectTimeout != 7*time.Second {
		t.Fatalf("config %+v", c)
	}
	sc, err := mustDefaults(t, c).sarama()
	if err != nil {
		t.Fatal(err)
	}
	if !sc.Net.SASL.Enable || sc.Net.SASL.SCRAMClientGeneratorFunc == nil || !sc.Net.TLS.Enable || sc.Metadata.AllowAutoTopicCreation {
		t.Fatalf("sarama config: SASL %+v, TLS %v, auto-create %v", sc.Net.SASL.Enable, sc.Net.TLS.Enable, sc.Metadata.AllowAutoTopicCreation)
	}

	// Only the brokers: defaults everywhere else.
	c, err = configFrom(lookupIn(map[string]string{EnvBrokers: "127.0.0.1:9092"}))
	if err != nil || c.TLS != nil || c.SASL.Mechanism != "" {
		t.Fatalf("minimal config %+v, %v", c, err)
	}
	d := mustDefaults(t, c)
	if d.ClientID != "eddy" || d.Version != sarama.MaxVersion || d.ConnectTimeout != 10*time.Second || d.Retries != 5 {
		t.Fatalf("defaults %+v", d)
	}
}

func mustDefaults(t *testing.T, c Config) Config {
	t.Helper()
	d, err := c.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestConfigErrors(t *testing.T) {
	for name, env := range map[string]map[string]string{
		EnvBrokers:        {},
		EnvVersion:        {EnvBrokers: "k:1", EnvVersion: "four"},
		EnvTLS:            {EnvBrokers: "k:1", EnvTLS: "maybe"},
		EnvDialTimeout:    {EnvBrokers: "k:1", EnvDialTimeout: "5"},
		EnvConnectTimeout: {EnvBrokers: "k:1", EnvConnectTimeout: "-1s"},
		EnvTLSCAFile:      {EnvBrokers: "k:1", EnvTLSCAFile: filepath.Join(t.TempDir(), "none.pem")},
	} {
		if _, err := configFrom(lookupIn(env)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v, want an error naming it", name, err)
		}
	}
	for name, c := range map[string]Config{
		"no brokers":     {},
		"not host:port":  {Brokers: []string{"localhost"}},
		"mechanism":      {Brokers: []string{"k:1"}, SASL: SASL{Mechanism: "GSSAPI", User: "u"}},
		"SASL user":      {Brokers: []string{"k:1"}, SASL: SASL{Mechanism: "PLAIN"}},
		"RequestTimeout": {Brokers: []string{"k:1"}, RequestTimeout: time.Second},
	} {
		if _, err := c.withDefaults(); err == nil || !strings.Contains(err.Error(), strings.Fields(name)[0]) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestConfigCAFile(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "eddy test CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := configFrom(lookupIn(map[string]string{EnvBrokers: "k:1", EnvTLSCAFile: file}))
	if err != nil || c.TLS == nil || c.TLS.RootCAs == nil {
		t.Fatalf("CA file: %+v, %v", c.TLS, err)
	}
	if err := os.WriteFile(file, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := configFrom(lookupIn(map[string]string{EnvBrokers: "k:1", EnvTLSCAFile: file})); err == nil {
		t.Fatal("a CA file without a certificate was accepted")
	}
}
