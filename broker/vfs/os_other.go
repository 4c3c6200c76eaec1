//go:build !linux

package vfs

import "os"

// datasync falls back to a full fsync where fdatasync is not available; on
// macOS (*os.File).Sync issues F_FULLFSYNC, which is what durability needs.
func datasync(f *os.File) error { return f.Sync() }
