package wire

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// segmentFile writes n pseudo-random bytes to a file, as a log segment
// stands in for, and returns it open with its contents.
func segmentFile(t *testing.T, n int) (*os.File, []byte) {
	t.Helper()
	data := make([]byte, n)
	rng := rand.NewChaCha8([32]byte{1, 2, 3})
	_, _ = rng.Read(data)
	path := filepath.Join(t.TempDir(), "00000000000000000000.log")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f, data
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { _ = server.Close(); _ = client.Close() })
	return server, client
}

// readAllAsync collects what arrives on c, starting after delay, until the
// writer closes.
func readAllAsync(c net.Conn, delay time.Duration) <-chan []byte {
	got := make(chan []byte, 1)
	go func() {
		time.Sleep(delay)
		_ = c.SetReadDeadline(time.Now().Add(testTimeout))
		b, _ := io.ReadAll(c)
		got <- b
	}()
	return got
}

// readerAtOnly hides every method but ReadAt, like a file of an in-memory
// filesystem.
type readerAtOnly struct{ r io.ReaderAt }

func (r readerAtOnly) ReadAt(p []byte, off int64) (int, error) { return r.r.ReadAt(p, off) }

func TestWriteSpanSendsFileBytesOverTCP(t *testing.T) {
	f, data := segmentFile(t, 1<<20)
	// The span is sent from an explicit offset: the shared position must
	// neither be used nor moved.
	if _, err := f.Seek(7, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		file         io.ReaderAt
		offset, size int64
		wantSendfile bool
		// backpressure shrinks the socket buffer and reads late, so the
		// send must wait for the socket to drain, many times over.
		backpressure bool
	}{
		{"descriptor, large span", f, 12345, 600_000, runtime.GOOS == "linux", false},
		{"descriptor, small span copied", f, 99, 1000, false, false},
		{"no descriptor", readerAtOnly{f}, 4096, 300_000, false, false},
		{"whole file, slow reader", f, 0, int64(len(data)), runtime.GOOS == "linux", true},
		{"no descriptor, slow reader", readerAtOnly{f}, 0, int64(len(data)), false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server, client := tcpPair(t)
			var delay time.Duration
			if tc.backpressure {
				delay = 30 * time.Millisecond
				if err := server.(*net.TCPConn).SetWriteBuffer(8 << 10); err != nil {
					t.Fatal(err)
				}
			}
			got := readAllAsync(client, delay)
			w := newConnWriter(server)
			if _, err := w.Write([]byte("prefix")); err != nil {
				t.Fatal(err)
			}
			if err := w.WriteSpan(Span{File: tc.file, Offset: tc.offset, Length: tc.size}); err != nil {
				t.Fatalf("WriteSpan: %v", err)
			}
			if _, err := w.Write([]byte("suffix")); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			_ = server.Close()

			want := append(append([]byte("prefix"), data[tc.offset:tc.offset+tc.size]...), "suffix"...)
			if b := <-got; !bytes.Equal(b, want) {
				t.Fatalf("received %d bytes, want %d; contents differ", len(b), len(want))
			}
			if n := w.takeWritten(); n != tc.size+12 {
				t.Fatalf("counted %d bytes written, want %d", n, tc.size+12)
			}
			if sent := w.sentWithSendfile; (sent == tc.size) != tc.wantSendfile {
				t.Fatalf("%d bytes went through sendfile; want sendfile used: %v", sent, tc.wantSendfile)
			}
			if pos, _ := f.Seek(0, io.SeekCurrent); pos != 7 {
				t.Fatalf("file position moved to %d", pos)
			}
		})
	}
}

func TestWriteSpanPastEndOfFileFails(t *testing.T) {
	f, data := segmentFile(t, 100_000)
	for name, file := range map[string]io.ReaderAt{"descriptor": f, "no descriptor": readerAtOnly{f}} {
		t.Run(name, func(t *testing.T) {
			server, _ := tcpPair(t)
			w := newConnWriter(server)
			err := w.WriteSpan(Span{File: file, Offset: int64(len(data)) - 50_000, Length: 60_000})
			if !errors.Is(err, ErrShortSpan) {
				t.Fatalf("got %v, want ErrShortSpan", err)
			}
		})
	}
	server, _ := tcpPair(t)
	if err := newConnWriter(server).WriteSpan(Span{File: f, Offset: -1, Length: 10}); err == nil {
		t.Fatal("negative offset accepted")
	}
}

func TestPiecesResponseIsFramedAndReleased(t *testing.T) {
	f, data := segmentFile(t, 256<<10)
	released := make(chan struct{})
	reg := NewRegistry()
	mustHandle(t, reg, 1, 4, 16, func(context.Context, *RequestContext, kmsg.Request) (Response, error) {
		p := &Pieces{}
		p.AppendBytes([]byte("head"))
		p.AppendSpan(Span{File: f, Offset: 1000, Length: 200_000})
		p.AppendBytes([]byte("middle"))
		p.AppendSpan(Span{File: readerAtOnly{f}, Offset: 5, Length: 10})
		p.AppendSpan(Span{File: f, Offset: 0, Length: 0})
		p.AppendBytes([]byte("tail"))
		p.OnRelease(func() { close(released) })
		return p, nil
	})
	ts := startServer(t, Config{Handlers: reg})
	c := dial(t, ts.addr)
	for _, version := range []int16{11, 12} { // v12 is flexible
		fetch := kmsg.NewPtrFetchRequest()
		fetch.Version = version
		c.send(fetch, int32(version))
		corr, body, err := c.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		if corr != int32(version) {
			t.Fatalf("correlation id %d", corr)
		}
		if version >= 12 {
			if body[0] != 0 {
				t.Fatalf("flexible header: tag section % x", body[0])
			}
			body = body[1:]
		}
		want := append([]byte("head"), data[1000:201_000]...)
		want = append(append(append(want, "middle"...), data[5:15]...), "tail"...)
		if !bytes.Equal(body, want) {
			t.Fatalf("v%d: body of %d bytes does not match the %d expected", version, len(body), len(want))
		}
		select {
		case <-released:
			released = make(chan struct{})
		case <-time.After(testTimeout):
			t.Fatal("response not released after writing")
		}
	}
}

func TestWrongSizedResponseClosesConnection(t *testing.T) {
	reg := NewRegistry()
	mustHandle(t, reg, 3, 0, 9, func(context.Context, *RequestContext, kmsg.Request) (Response, error) {
		return liar{}, nil
	})
	ts := startServer(t, Config{Handlers: reg})
	c := dial(t, ts.addr)
	c.send(metadataRequest(4, "t"), 1)
	// The header already went out, so the client sees a frame cut short.
	if _, _, err := c.readFrame(); err == nil {
		t.Fatal("read a whole frame from a response that lied about its size")
	}
	waitFor(t, func() bool { return len(ts.logs.linesContaining("announced 10 bytes, wrote 3")) == 1 })
}

// liar announces more bytes than it writes.
type liar struct{}

func (liar) Size() int { return 10 }

func (liar) WriteBody(w *ConnWriter) error {
	_, err := w.Write([]byte("abc"))
	return err
}
