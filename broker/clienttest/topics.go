package clienttest

import (
	"errors"
	"strings"
	"testing"

	"github.com/eddy-streams/eddy/broker"
)

func testCreateTopics(t *testing.T, s *suite) {
	a, b, d := s.name("a"), s.name("b"), s.name("default")
	err := s.c.CreateTopics(s.ctx,
		broker.TopicSpec{Name: a, Partitions: 3, ReplicationFactor: -1},
		broker.TopicSpec{Name: b, Partitions: 1, ReplicationFactor: -1, Configs: map[string]string{"cleanup.policy": "compact"}},
		broker.TopicSpec{Name: d, Partitions: -1, ReplicationFactor: -1},
	)
	if err != nil {
		t.Fatalf("create topics: %v", err)
	}
	for name, want := range map[string]int32{a: 3, b: 1} {
		if n, err := s.c.Partitions(s.ctx, name); err != nil || n != want {
			t.Fatalf("partitions of %s: %d, %v; want %d", name, n, err, want)
		}
	}
	if n, err := s.c.Partitions(s.ctx, d); err != nil || n < 1 {
		t.Fatalf("partitions of %s (broker default): %d, %v", d, n, err)
	}

	// Existing topics: the same count, or the default, is fine.
	if err := s.c.CreateTopics(s.ctx, broker.TopicSpec{Name: a, Partitions: 3}, broker.TopicSpec{Name: a, Partitions: -1}); err != nil {
		t.Fatalf("create existing topic again: %v", err)
	}
	err = s.c.CreateTopics(s.ctx, broker.TopicSpec{Name: a, Partitions: 5})
	if !errors.Is(err, broker.ErrInvalidPartitions) {
		t.Fatalf("create %s with 5 partitions over 3: %v, want ErrInvalidPartitions", a, err)
	}
	for _, part := range []string{a, "3", "5"} {
		if !strings.Contains(err.Error(), part) {
			t.Fatalf("mismatch error %q does not name %q", err, part)
		}
	}
	// The topic is untouched.
	if n, err := s.c.Partitions(s.ctx, a); err != nil || n != 3 {
		t.Fatalf("partitions of %s after a refused create: %d, %v", a, n, err)
	}

	missing := s.name("missing")
	_, err = s.c.Partitions(s.ctx, missing)
	if !errors.Is(err, broker.ErrUnknownTopic) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("partitions of a missing topic: %v, want ErrUnknownTopic naming %s", err, missing)
	}
	// Asking did not create it.
	if _, err := s.c.Partitions(s.ctx, missing); !errors.Is(err, broker.ErrUnknownTopic) {
		t.Fatalf("partitions of a missing topic, asked twice: %v", err)
	}
}
