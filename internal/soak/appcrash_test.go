package soak

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/eddy-streams/eddy/broker"
	"github.com/eddy-streams/eddy/broker/batch"
	"github.com/eddy-streams/eddy/internal/partition"
	"github.com/eddy-streams/eddy/serde"
	"github.com/eddy-streams/eddy/stream"
	"github.com/eddy-streams/eddy/table"
)

// The app under test counts records per key and copies every record to a
// passthrough topic. Its child process runs the embedded broker in process,
// as an app using eddy's default backend does, so SIGKILL takes both down.
const (
	appChildEnv     = "EDDY_APPCRASH_CHILD"
	appInputParts   = 4
	appKeys         = 500
	appPerPartition = 25000
)

func buildCrashApp(sleepEvery int) (*stream.Builder, table.Table[string, int64]) {
	b := stream.NewBuilder("crashapp")
	in := stream.From(b, "input", serde.String, serde.String)
	// Slow processing down so that the kills of all cycles land mid-stream.
	n := 0
	in = in.Peek(func(string, string) {
		if n++; sleepEvery > 0 && n%sleepEvery == 0 {
			time.Sleep(time.Millisecond)
		}
	})
	in.To("passthrough", serde.String, serde.String)
	counts := table.Count(in.GroupByKey(), table.Named("counts"))
	return b, counts
}

func openCrashApp(dir string, sleepEvery int) (*broker.Broker, *stream.App, table.Table[string, int64], error) {
	br, err := broker.Open(broker.Config{Dir: filepath.Join(dir, "broker")})
	if err != nil {
		return nil, nil, table.Table[string, int64]{}, err
	}
	b, counts := buildCrashApp(sleepEvery)
	app, err := stream.NewApp(b, stream.Config{Client: br.Embedded(), StateDir: filepath.Join(dir, "state"), CommitInterval: 40 * time.Millisecond})
	if err != nil {
		br.Close()
		return nil, nil, counts, err
	}
	return br, app, counts, nil
}

// runAppChild runs the app until killed, printing how its stores were
// restored: "restored <partition> <from> <records>".
func runAppChild(dir string, sleepEvery int) error {
	br, app, _, err := openCrashApp(dir, sleepEvery)
	if err != nil {
		return err
	}
	defer br.Close()
	done := make(chan error, 1)
	go func() { done <- app.Run(context.Background()) }()
	select {
	case <-app.Ready():
	case err := <-done:
		return err
	}
	info, err := app.Internal().StoreInfo("counts")
	if err != nil {
		return err
	}
	for p := int32(0); p < info.Partitions; p++ {
		fmt.Printf("restored %d %d %d\n", p, info.RestoredFrom[p], info.Restored[p])
	}
	return <-done
}

// TestAppCrashLoop kills an app process with SIGKILL mid-stream, again and
// again, then lets it finish, and checks: every input record reached the
// output (at least once), every store equals the fold of its changelog,
// counts are never below the truth, restarts with a checkpoint replay only
// the changelog's tail, and a clean restart replays nothing.
func TestAppCrashLoop(t *testing.T) {
	cycles := 4
	if s := os.Getenv("EDDY_SOAK_CYCLES"); s != "" {
		cycles, _ = strconv.Atoi(s)
	}
	dir := t.TempDir()
	truth := produceCrashInput(t, dir)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	tailOnly := 0
	for cycle := 0; cycle < cycles; cycle++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		// Spread the input over the cycles' expected lifetimes (~450 ms).
		sleepEvery := max(20, appInputParts*appPerPartition/(cycles*450))
		cmd.Env = append(os.Environ(), appChildEnv+"="+dir, "EDDY_APPCRASH_SLEEP_EVERY="+strconv.Itoa(sleepEvery))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		restores := make(chan [][3]int64, 1)
		go func() {
			var got [][3]int64
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				var r [3]int64
				if _, err := fmt.Sscanf(sc.Text(), "restored %d %d %d", &r[0], &r[1], &r[2]); err == nil {
					got = append(got, r)
				}
			}
			restores <- got
		}()
		life := time.Duration(150+rng.IntN(600)) * time.Millisecond
		time.Sleep(life)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		got := <-restores
		cmd.Wait()
		for _, r := range got {
			if r[1] >= 0 {
				tailOnly++
			}
		}
		t.Logf("cycle %d: killed after %v; restores (partition, from, records): %v; input committed up to %v", cycle, life, got, committedInput(t, dir))
	}
	// Finish in process: run until every input record is processed.
	br, app, counts, err := openCrashApp(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	<-app.Ready()
	deadline := time.Now().Add(60 * time.Second)
	for !caughtUp(t, br, "crashapp", "input") {
		if time.Now().After(deadline) {
			t.Fatal("app did not catch up with its input")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for key, n := range truth {
		got, ok, err := table.Lookup(app, counts, key)
		if err != nil || !ok || got < n {
			t.Fatalf("count of %s = %d (found %v, %v), want at least %d", key, got, ok, err, n)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	client := br.Embedded()
	checkPassthrough(t, client, truth)
	checkStoreIsChangelogFold(t, dir, client)
	br.Close()
	// A clean restart finds checkpoints for everything: nothing to replay.
	br, app, _, err = openCrashApp(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	go func() { done <- app.Run(ctx) }()
	<-app.Ready()
	info, err := app.Internal().StoreInfo("counts")
	if err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < info.Partitions; p++ {
		if info.Restored[p] != 0 || info.RestoredFrom[p] < 0 {
			t.Errorf("clean restart, partition %d: replayed %d changelog records from %d, want 0 from a checkpoint", p, info.Restored[p], info.RestoredFrom[p])
		}
	}
	cancel()
	<-done
	br.Close()
	if cycles >= 3 && tailOnly == 0 {
		t.Errorf("no crash restart found a usable checkpoint: every restore replayed the whole changelog")
	}
	t.Logf("%d crash cycles; %d store restores replayed only a tail", cycles, tailOnly)
}

func init() {
	if dir := os.Getenv(appChildEnv); dir != "" {
		every, _ := strconv.Atoi(os.Getenv("EDDY_APPCRASH_SLEEP_EVERY"))
		if err := runAppChild(dir, every); err != nil {
			fmt.Fprintln(os.Stderr, "app child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// produceCrashInput writes the input topic and returns the true count per key.
func produceCrashInput(t *testing.T, dir string) map[string]int64 {
	br, err := broker.Open(broker.Config{Dir: filepath.Join(dir, "broker")})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	c := br.Embedded()
	ctx := context.Background()
	if err := c.CreateTopics(ctx, broker.TopicSpec{Name: "input", Partitions: appInputParts}, broker.TopicSpec{Name: "passthrough", Partitions: appInputParts}); err != nil {
		t.Fatal(err)
	}
	truth := map[string]int64{}
	builders := make([]*batch.Builder, appInputParts)
	for p := range builders {
		builders[p] = batch.NewBuilder(batch.BuilderOptions{})
	}
	flush := func(p int32) {
		data, _ := builders[p].Build(nil)
		if _, err := c.Append(ctx, "input", p, data); err != nil {
			t.Fatal(err)
		}
		builders[p].Reset()
	}
	for i := 0; i < appInputParts*appPerPartition; i++ {
		// Keys go where Kafka's default partitioner puts them, as
		// interactive queries expect.
		key := fmt.Sprintf("k%d", i%appKeys)
		p := partition.ForKey([]byte(key), appInputParts)
		builders[p].Add(batch.Record{Key: []byte(key), Value: []byte(fmt.Sprintf("v%d", i)), Timestamp: int64(i)})
		truth[key]++
		if builders[p].Len() == 500 {
			flush(p)
		}
	}
	for p := int32(0); p < appInputParts; p++ {
		if builders[p].Len() > 0 {
			flush(p)
		}
	}
	return truth
}

func caughtUp(t *testing.T, br *broker.Broker, group, topic string) bool {
	c := br.Embedded()
	ctx := context.Background()
	var tps []broker.TopicPartition
	for p := int32(0); p < appInputParts; p++ {
		tps = append(tps, broker.TopicPartition{Topic: topic, Partition: p})
	}
	offs, err := c.CommittedOffsets(ctx, group, tps)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range offs {
		end, _ := c.ListOffset(ctx, topic, o.Partition, broker.Latest)
		if o.Offset < end {
			return false
		}
	}
	return true
}

// readTopic returns every record of a topic partition.
func readTopic(t *testing.T, c broker.Client, topic string, p int32, fn func(key, value []byte)) {
	ctx := context.Background()
	for off := int64(0); ; {
		res, err := c.Fetch(ctx, topic, p, off, 4<<20, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Batches) == 0 {
			return
		}
		for data := res.Batches; len(data) > 0; {
			one, rest, err := batch.Next(data)
			if err != nil {
				t.Fatal(err)
			}
			it, err := batch.NewIterator(one)
			if err != nil {
				t.Fatal(err)
			}
			for it.Next() {
				r := it.Record()
				if r.Offset >= off {
					fn(r.Key, r.Value)
				}
			}
			off = it.Header().LastOffset() + 1
			data = rest
		}
	}
}

func checkPassthrough(t *testing.T, c broker.Client, truth map[string]int64) {
	seen := map[string]bool{}
	for p := int32(0); p < appInputParts; p++ {
		readTopic(t, c, "passthrough", p, func(_, v []byte) { seen[string(v)] = true })
	}
	for i := 0; i < appInputParts*appPerPartition; i++ {
		if v := fmt.Sprintf("v%d", i); !seen[v] {
			t.Fatalf("input record %s never reached the output", v)
		}
	}
}

// checkStoreIsChangelogFold compares each task's local LevelDB store with
// the fold of its changelog partition.
func checkStoreIsChangelogFold(t *testing.T, dir string, c broker.Client) {
	for p := int32(0); p < appInputParts; p++ {
		fold := map[string]string{}
		readTopic(t, c, "crashapp-counts-changelog", p, func(k, v []byte) {
			if v == nil {
				delete(fold, string(k))
			} else {
				fold[string(k)] = string(v)
			}
		})
		local := readLocalStore(t, filepath.Join(dir, "state", "crashapp", fmt.Sprintf("0_%d", p), "counts"))
		if len(local) != len(fold) {
			t.Fatalf("partition %d: local store has %d keys, changelog fold %d", p, len(local), len(fold))
		}
		for k, v := range fold {
			if local[k] != v {
				t.Fatalf("partition %d key %s: local store %x, changelog fold %x", p, k, local[k], v)
			}
		}
	}
}

// committedInput reads the app's committed input offsets from the broker's
// data directory (the child is dead, so the directory is free).
func committedInput(t *testing.T, dir string) []int64 {
	br, err := broker.Open(broker.Config{Dir: filepath.Join(dir, "broker")})
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	var tps []broker.TopicPartition
	for p := int32(0); p < appInputParts; p++ {
		tps = append(tps, broker.TopicPartition{Topic: "input", Partition: p})
	}
	offs, err := br.Embedded().CommittedOffsets(context.Background(), "crashapp", tps)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int64, len(offs))
	for i, o := range offs {
		out[i] = o.Offset
	}
	return out
}
