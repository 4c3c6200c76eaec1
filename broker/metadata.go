package broker

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/google/uuid"

	"github.com/eddy-streams/eddy/broker/vfs"
)

// metadataFile holds the broker's durable metadata, rewritten whole (write a
// temporary file, fsync, rename, fsync the directory) on every change.
const metadataFile = "eddy-metadata.json"

// metadata is what survives a restart besides the partition logs.
type metadata struct {
	Version   int    `json:"version"`
	ClusterID string `json:"cluster_id"`
	// NextProducerID is the first producer id not yet handed out. Ids are
	// reserved in blocks, so a restart skips the rest of a block rather
	// than ever reusing an id.
	NextProducerID int64                `json:"next_producer_id"`
	Topics         map[string]topicMeta `json:"topics"`
}

type topicMeta struct {
	ID         uuid.UUID         `json:"id"`
	Partitions int32             `json:"partitions"`
	Configs    map[string]string `json:"configs,omitempty"`
}

func loadMetadata(fs vfs.FS, dir string) (metadata, bool, error) {
	path := filepath.Join(dir, metadataFile)
	f, err := fs.Open(path)
	if isNotExist(err) {
		return metadata{Version: 1, Topics: map[string]topicMeta{}}, false, nil
	}
	if err != nil {
		return metadata{}, false, fmt.Errorf("broker: open %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return metadata{}, false, fmt.Errorf("broker: read %s: %w", path, err)
	}
	var m metadata
	if err := json.Unmarshal(data, &m); err != nil {
		return metadata{}, false, fmt.Errorf("broker: %s is damaged: %w", path, err)
	}
	if m.Version != 1 {
		return metadata{}, false, fmt.Errorf("broker: %s has version %d, this eddy reads version 1", path, m.Version)
	}
	if m.Topics == nil {
		m.Topics = map[string]topicMeta{}
	}
	return m, true, nil
}

func saveMetadata(fs vfs.FS, dir string, m metadata) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("broker: encode metadata: %w", err)
	}
	path := filepath.Join(dir, metadataFile)
	tmp := path + ".tmp"
	f, err := fs.Create(tmp)
	if err != nil {
		return fmt.Errorf("broker: create %s: %w", tmp, err)
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("broker: write %s: %w", tmp, err)
	}
	if err := fs.Rename(tmp, path); err != nil {
		return fmt.Errorf("broker: rename %s: %w", tmp, err)
	}
	if err := fs.SyncDir(dir); err != nil {
		return fmt.Errorf("broker: sync %s: %w", dir, err)
	}
	return nil
}

func (m metadata) clone() metadata {
	c := m
	c.Topics = make(map[string]topicMeta, len(m.Topics))
	for k, v := range m.Topics {
		c.Topics[k] = v
	}
	return c
}
