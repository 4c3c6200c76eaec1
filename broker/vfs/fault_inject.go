package vfs

import (
	"fmt"
	"slices"
	"sync/atomic"
	"syscall"
)

// FailAfter returns an Injector under which the n-th operation among ops
// (counting from 1, across all files) and every later one fails with
// ErrInjected; FailAfter(1, ...) fails them all. With no ops, every
// operation counts.
func FailAfter(n int, ops ...Op) Injector {
	var seen atomic.Int64
	return func(op Op, name string) error {
		if !matches(op, ops) {
			return nil
		}
		if seen.Add(1) >= int64(n) {
			return ErrInjected
		}
		return nil
	}
}

// FailOnce returns an Injector under which only the n-th operation among ops
// (counting from 1) fails with ErrInjected. With no ops, every operation
// counts.
func FailOnce(n int, ops ...Op) Injector {
	var seen atomic.Int64
	return func(op Op, name string) error {
		if !matches(op, ops) {
			return nil
		}
		if seen.Add(1) == int64(n) {
			return ErrInjected
		}
		return nil
	}
}

// DiskFull returns an Injector that simulates the disk filling up during the
// n-th write (OpWrite or OpWriteAt, counting from 1): that write stores only
// its first keep bytes, and it and every later write fail with an error
// wrapping syscall.ENOSPC. Other operations, Sync included, keep working, so
// a test can check what the short write left on disk.
func DiskFull(n, keep int) Injector {
	var seen atomic.Int64
	return func(op Op, name string) error {
		if op != OpWrite && op != OpWriteAt {
			return nil
		}
		switch i := seen.Add(1); {
		case i < int64(n):
			return nil
		case i == int64(n) && keep > 0:
			return &ShortWriteError{Keep: keep, Err: errNoSpace()}
		default:
			return errNoSpace()
		}
	}
}

// errNoSpace needs no file name: FaultFS wraps it in an *fs.PathError.
func errNoSpace() error {
	return fmt.Errorf("vfs: simulated full disk: %w", syscall.ENOSPC)
}

func matches(op Op, ops []Op) bool {
	return len(ops) == 0 || slices.Contains(ops, op)
}
