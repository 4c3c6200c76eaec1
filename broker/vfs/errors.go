package vfs

import "errors"

// ErrLocked is returned, wrapped with the file's name, by FS.Lock when the
// file is already locked: by another process, or in the same process through
// another Lock call whose Closer has not been closed yet.
var ErrLocked = errors.New("vfs: file is locked by another process or handle")

// ErrInjected is the error a FaultFS returns, wrapped in an *fs.PathError
// naming the operation and file, when FailAfter or FailOnce decides that an
// operation fails. It never comes from a real filesystem.
var ErrInjected = errors.New("vfs: injected fault")
