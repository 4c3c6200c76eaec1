package clienttest_test

import (
	"testing"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/clienttest"
)

// TestEmbedded runs the suite against the embedded broker in process.
func TestEmbedded(t *testing.T) {
	b, err := broker.Open(broker.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close broker: %v", err)
		}
	})
	clienttest.Run(t, func(*testing.T) broker.Client { return b.Embedded() })
}
