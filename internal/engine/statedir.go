package engine

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/eddy-streams/eddy/internal/topology"
	"github.com/eddy-streams/eddy/storage"
)

// localTaskOffsets lists the tasks of the plan whose state this instance
// holds on disk with a valid checkpoint, each with the sum of its
// checkpointed changelog offsets: what the leader weighs when a task must
// move (the larger, the less to replay). Unreadable directories and
// checkpoints are skipped: they only mean a full restore.
func (e *Engine) localTaskOffsets() map[topology.TaskID]int64 {
	out := map[topology.TaskID]int64{}
	if e.cfg.StateDir == "" || e.cfg.InMemoryStores {
		return out
	}
	dir := filepath.Join(e.cfg.StateDir, e.cfg.AppID)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	for _, ent := range entries {
		var id topology.TaskID
		if !ent.IsDir() {
			continue
		}
		if n, err := fmt.Sscanf(ent.Name(), "%d_%d", &id.Subtopology, &id.Partition); err != nil || n != 2 || id.String() != ent.Name() {
			continue
		}
		if id.Subtopology >= len(e.plan.subs) || id.Partition >= e.plan.tasks[id.Subtopology] {
			continue
		}
		cp, err := storage.ReadCheckpoint(filepath.Join(dir, ent.Name(), ".checkpoint"))
		if err != nil || len(cp) == 0 {
			continue
		}
		var sum int64
		for _, off := range cp {
			sum += max(off, 0)
		}
		out[id] = sum
	}
	return out
}
