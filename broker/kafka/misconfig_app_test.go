package kafka_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// TestAppMisconfiguration starts a counting app against each backend in
// three broken setups and checks the app stops at once with an error that
// names what is wrong: an input topic that does not exist, a changelog topic
// with the wrong partition count, and one with the wrong cleanup policy.
func TestAppMisconfiguration(t *testing.T) {
	backends(t, func(t *testing.T, addr string) {
		c := newClient(t, addr)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		run := func(app, input string) error {
			b := stream.NewBuilder(app)
			table.Count(stream.From(b, input, serde.String, serde.String).GroupByKey(), table.Named("counts"))
			a, err := stream.NewApp(b, stream.Config{Client: c, StateDir: t.TempDir(), CommitInterval: 50 * time.Millisecond})
			if err != nil {
				return err
			}
			rctx, stop := context.WithTimeout(ctx, 20*time.Second)
			defer stop()
			return a.Run(rctx)
		}

		app := uniqueName(t, "noinput")
		err := run(app, app+"-missing")
		t.Logf("missing input: %v", err)
		if !errors.Is(err, broker.ErrUnknownTopic) || !strings.Contains(err.Error(), app+"-missing") {
			t.Errorf("missing input topic: %v", err)
		}

		app = uniqueName(t, "parts")
		if err := c.CreateTopics(ctx, broker.TopicSpec{Name: app + "-in", Partitions: 3},
			broker.TopicSpec{Name: app + "-counts-changelog", Partitions: 2, Configs: map[string]string{"cleanup.policy": "compact"}}); err != nil {
			t.Fatal(err)
		}
		err = run(app, app+"-in")
		t.Logf("wrong partitions: %v", err)
		if err == nil || !strings.Contains(err.Error(), app+"-counts-changelog") || !strings.Contains(err.Error(), "2") || !strings.Contains(err.Error(), "3") {
			t.Errorf("changelog with 2 partitions for 3 tasks: %v", err)
		}

		app = uniqueName(t, "policy")
		if err := c.CreateTopics(ctx, broker.TopicSpec{Name: app + "-in", Partitions: 3},
			broker.TopicSpec{Name: app + "-counts-changelog", Partitions: 3, Configs: map[string]string{"cleanup.policy": "delete"}}); err != nil {
			t.Fatal(err)
		}
		err = run(app, app+"-in")
		t.Logf("wrong policy: %v", err)
		if err == nil || !strings.Contains(err.Error(), app+"-counts-changelog") || !strings.Contains(err.Error(), "cleanup.policy") {
			t.Errorf("changelog with cleanup.policy=delete: %v", err)
		}
	})
}
