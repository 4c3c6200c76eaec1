//go:build unix

package vfs

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOSFilesExposeDescriptors(t *testing.T) {
	name := filepath.Join(t.TempDir(), "seg")
	writeFile(t, OS(), name, []byte("12345"))
	f, err := OS().Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd, ok := f.(FdFile)
	if !ok {
		t.Fatalf("%T does not implement FdFile", f)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(fd.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != 5 {
		t.Fatalf("fstat through Fd sees %d bytes, want 5", st.Size)
	}

	faulty, err := NewFaultFS(OS(), nil).Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer faulty.Close()
	if _, ok := faulty.(FdFile); ok {
		t.Fatal("a FaultFS file exposes a descriptor that would bypass injection")
	}
}

func TestOSLockExcludesOtherProcesses(t *testing.T) {
	name := filepath.Join(t.TempDir(), "LOCK")
	l, err := OS().Lock(name)
	if err != nil {
		t.Fatal(err)
	}
	out, err := lockInChild(t, name)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("child locking a held lock: %v, output %q; want exit status 3", err, out)
	}
	if !strings.Contains(out, name) {
		t.Fatalf("child's error %q does not name the lock file", out)
	}

	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := lockInChild(t, name); err != nil {
		t.Fatalf("child locking a released lock: %v, output %q", err, out)
	}
}

func lockInChild(t *testing.T, name string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockHolderEnv+"="+name)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestOSSyncAfterRenameAndRemove(t *testing.T) {
	dir := t.TempDir()
	fsys := OS()
	f, err := fsys.Create(filepath.Join(dir, "a.tmp"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mustWrite(t, f, []byte("x"))
	mustRename(t, fsys, filepath.Join(dir, "a.tmp"), filepath.Join(dir, "a"))
	if err := fsys.Remove(filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	// fdatasync of an unlinked file and fsync of its directory both work.
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	mustSyncDir(t, fsys, dir)
}
