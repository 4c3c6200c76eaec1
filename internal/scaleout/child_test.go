package scaleout

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/eddy-streams/eddy/broker/kafka"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// The instance under test counts records per key (no repartition: a key's
// count lives in the task of its input partition). A child process runs
// one instance until SIGTERM (it then commits and leaves the group) or
// SIGKILL, and reports on stdout, one line each:
//
//	ready <unix ns>                                     the first generation's tasks run
//	gen <generation> <active> <standby> <unix ns>       a new assignment (partitions, comma separated)
//	opened <partition> <from> <records> <unix ns>       a task started: its restore replayed records from offset from (-2: the whole changelog)
//	warm <partitions> <unix ns>                         the standby copies that finished their first restore, when that set changes
const (
	childEnv    = "EDDY_SCALEOUT_CHILD"
	appID       = "scaleout"
	inputTopic  = "input"
	changelog   = appID + "-counts-changelog"
	inputParts  = 12
	sessionTime = time.Second
)

func init() {
	if os.Getenv(childEnv) == "" {
		return
	}
	if err := runChild(os.Getenv("EDDY_SCALEOUT_BROKER"), os.Getenv(childEnv), os.Getenv("EDDY_SCALEOUT_STATE"), os.Getenv("EDDY_SCALEOUT_STANDBYS")); err != nil {
		fmt.Fprintln(os.Stderr, "scaleout child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runChild(addr, name, stateDir, standbys string) error {
	n, err := strconv.Atoi(standbys)
	if err != nil {
		return fmt.Errorf("standbys %q: %w", standbys, err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("instance", name)
	client, err := kafka.New(kafka.Config{Brokers: []string{addr}, ClientID: name, Logger: logger})
	if err != nil {
		return err
	}
	defer client.Close()
	b := stream.NewBuilder(appID)
	in := stream.From(b, inputTopic, serde.String, serde.String)
	table.Count(in.GroupByKey(), table.Named("counts"))
	app, err := stream.NewApp(b, stream.Config{
		Client: client, StateDir: stateDir, CommitInterval: 100 * time.Millisecond,
		ApplicationServer: name + ":7070", StandbyReplicas: n,
		SessionTimeout: sessionTime, HeartbeatInterval: 25 * time.Millisecond, RebalanceTimeout: 10 * time.Second,
		Logger: logger,
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	report(app, done)
	return <-done
}

// report prints the instance's events until Run returns (done is left
// for the caller).
func report(app *stream.App, done chan error) {
	ready := app.Ready()
	gen := int32(-1)
	open := map[int32]bool{}
	warm := "-"
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			done <- err
			return
		case <-ready:
			fmt.Printf("ready %d\n", time.Now().UnixNano())
			ready = nil
		case <-tick.C:
		}
		eng := app.Internal()
		if a, ok := eng.Assignment(); ok && a.Generation != gen {
			gen = a.Generation
			for _, in := range a.Instances {
				if in.ProcessID == a.ProcessID {
					fmt.Printf("gen %d %s %s %d\n", gen, partitions(in.Active), partitions(in.Standby), time.Now().UnixNano())
				}
			}
		}
		info, err := eng.StoreInfo("counts")
		if err != nil {
			continue
		}
		for p := range open {
			if _, ok := info.Restored[p]; !ok {
				delete(open, p)
			}
		}
		for p, n := range info.Restored {
			if !open[p] {
				open[p] = true
				fmt.Printf("opened %d %d %d %d\n", p, info.RestoredFrom[p], n, time.Now().UnixNano())
			}
		}
		var ws []string
		for p, ok := range info.Standby {
			if ok {
				ws = append(ws, strconv.Itoa(int(p)))
			}
		}
		slices.Sort(ws)
		w := strings.Join(ws, ",")
		if w == "" {
			w = "-"
		}
		if w != warm {
			warm = w
			fmt.Printf("warm %s %d\n", warm, time.Now().UnixNano())
		}
	}
}

func partitions[T interface{ String() string }](ids []T) string {
	if len(ids) == 0 {
		return "-"
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		s := id.String()
		out[i] = s[strings.IndexByte(s, '_')+1:] // one sub-topology: the partition says it all
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}
