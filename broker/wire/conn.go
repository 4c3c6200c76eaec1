package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"syscall"
	"time"
)

// readBufferSize batches the small requests a pipelining client sends into
// few read calls; large bodies bypass it.
const readBufferSize = 32 << 10

// conn serves one client connection with three kinds of goroutine: the
// reader decodes requests in order and starts a handler goroutine for each;
// the writer takes the requests in the same order, waits for each handler
// and writes its response. The queue between them is bounded by the
// in-flight limiter, so the reader never blocks sending on it.
type conn struct {
	srv     *Server
	nc      net.Conn
	session *Session
	log     *slog.Logger

	// ctx ends when the connection is aborted: handlers stop waiting.
	ctx    context.Context
	cancel context.CancelFunc
	// readCtx also ends when a graceful shutdown stops reading.
	readCtx    context.Context
	stopRead   context.CancelFunc
	queue      chan *call
	limiter    *inflightLimiter
	handlers   sync.WaitGroup
	abortOnce  sync.Once
	writerDone chan struct{}
	// gate orders the InOrder sections of Ordered requests; nextTicket is
	// touched by the reader only.
	gate       *orderGate
	nextTicket int64
}

// call is one request travelling from the reader to the writer.
type call struct {
	req       *decodedRequest
	frameSize int64
	ticket    int64         // for Ordered keys; -1 otherwise
	done      chan struct{} // closed when resp and err are set
	resp      Response
	err       error
}

func (s *Server) newConn(nc net.Conn) *conn {
	id := s.nextConnID.Add(1)
	session := newSession(id, nc)
	ctx, cancel := context.WithCancel(context.Background())
	readCtx, stopRead := context.WithCancel(ctx)
	return &conn{
		srv:        s,
		nc:         nc,
		session:    session,
		log:        s.log.With(slog.Uint64("conn_id", id), slog.String("remote", nc.RemoteAddr().String())),
		ctx:        ctx,
		cancel:     cancel,
		readCtx:    readCtx,
		stopRead:   stopRead,
		queue:      make(chan *call, s.cfg.MaxInFlightRequests),
		limiter:    newInflightLimiter(s.cfg.MaxInFlightRequests, s.cfg.MaxInFlightBytes),
		writerDone: make(chan struct{}),
		gate:       newOrderGate(),
	}
}

// serve runs the connection until it ends and every goroutine it started
// has returned.
func (c *conn) serve() {
	go c.writeLoop()
	c.readLoop()
	<-c.writerDone
	c.handlers.Wait()
	c.cancel()
	_ = c.nc.Close()
}

// drain stops reading requests; those already read are answered, then the
// connection closes.
func (c *conn) drain() {
	c.stopRead()
	// Unblocks a Read in progress; the reader then sees readCtx is done.
	_ = c.nc.SetReadDeadline(time.Now())
}

// abort closes the connection now, cancelling its handlers. The first cause
// is logged unless it is an ordinary end.
func (c *conn) abort(cause error) {
	c.abortOnce.Do(func() {
		if !isOrdinaryClose(cause) {
			attrs := []slog.Attr{slog.String("err", cause.Error())}
			var re *requestError
			if errors.As(cause, &re) {
				attrs = append(attrs, re.logAttrs()...)
			}
			c.log.LogAttrs(context.Background(), slog.LevelWarn, "wire: closing connection", attrs...)
		}
		c.cancel()
		_ = c.nc.Close()
	})
}

// isOrdinaryClose reports causes that are no fault: the client hanging up
// between requests or before reading its responses, or the server shutting
// down.
func isOrdinaryClose(err error) bool {
	if errors.Is(err, errTruncatedFrame) {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, ErrServerClosed)
}

func (c *conn) readLoop() {
	defer close(c.queue)
	r := bufio.NewReaderSize(c.nc, readBufferSize)
	var scratch [4]byte
	for c.readCtx.Err() == nil {
		cl, err := c.readRequest(r, &scratch)
		if err != nil {
			if c.readCtx.Err() == nil {
				c.abort(err)
			}
			return
		}
		cl.ticket = -1
		if cl.req.route.ordered {
			cl.ticket = c.nextTicket
			c.nextTicket++
		}
		c.handlers.Add(1)
		go c.runHandler(cl)
		c.queue <- cl
	}
}

// readRequest reads and decodes the next request, holding an in-flight slot
// for it on success.
func (c *conn) readRequest(r io.Reader, scratch *[4]byte) (*call, error) {
	size, err := readFrameSize(r, scratch, c.srv.cfg.MaxRequestSize)
	if err != nil {
		return nil, err
	}
	if err := c.limiter.acquire(c.readCtx, int64(size)); err != nil {
		return nil, err
	}
	frame, err := readFrameBody(r, size)
	if err == nil {
		var req *decodedRequest
		if req, err = c.srv.routes.decodeRequest(frame); err == nil {
			return &call{req: req, frameSize: int64(size), done: make(chan struct{})}, nil
		}
	}
	c.limiter.release(int64(size))
	return nil, err
}

func (c *conn) runHandler(cl *call) {
	defer c.handlers.Done()
	defer close(cl.done)
	h := &cl.req.header
	rc := &RequestContext{
		Session:       c.session,
		APIKey:        h.apiKey,
		APIVersion:    h.apiVersion,
		HeaderVersion: h.headerVersion,
		CorrelationID: h.correlationID,
		ClientID:      h.clientID,
	}
	if cl.ticket >= 0 {
		rc.gate, rc.ticket = c.gate, cl.ticket
		// A handler that never calls InOrder, fails or panics must not
		// hold back later requests.
		defer c.gate.pass(cl.ticket)
	}
	defer func() {
		if p := recover(); p != nil {
			cl.resp, cl.err = nil, fmt.Errorf("%w: panic: %v\n%s", errHandlerFailed, p, debug.Stack())
		}
	}()
	cl.resp, cl.err = cl.req.route.handler(c.ctx, rc, cl.req.msg)
	if cl.err != nil {
		cl.err = fmt.Errorf("%w: %w", errHandlerFailed, cl.err)
	}
}

func (c *conn) writeLoop() {
	defer close(c.writerDone)
	w := newConnWriter(c.nc)
	failed := false
	for {
		var cl *call
		var ok bool
		select {
		case cl, ok = <-c.queue:
		default:
			// Nothing ready: send what is buffered before waiting.
			failed = c.flush(w, failed)
			cl, ok = <-c.queue
		}
		if !ok {
			c.flush(w, failed)
			return
		}
		select {
		case <-cl.done:
		default:
			failed = c.flush(w, failed)
			<-cl.done // handlers see ctx cancelled if the conn is aborted
		}
		if !failed {
			if err := c.writeResponse(w, cl); err != nil {
				h := cl.req.header
				c.abort(&requestError{apiKey: h.apiKey, apiVersion: h.apiVersion, correlationID: h.correlationID, err: err})
				failed = true
			}
		}
		if rel, ok := cl.resp.(Releaser); ok {
			rel.Release()
		}
		c.limiter.release(cl.frameSize)
	}
}

// flush writes buffered responses unless the connection already failed, and
// reports whether it has failed now.
func (c *conn) flush(w *ConnWriter, failed bool) bool {
	if failed {
		return true
	}
	if err := w.Flush(); err != nil {
		c.abort(err)
		return true
	}
	return false
}

func (c *conn) writeResponse(w *ConnWriter, cl *call) error {
	if cl.err != nil {
		return cl.err
	}
	if cl.resp == nil {
		return nil
	}
	h := cl.req.header
	flexible := cl.req.flexibleResponseHeader
	if m, ok := cl.resp.(*messageResponse); ok {
		if err := checkMessage(h, m); err != nil {
			return err
		}
		return w.appendMessage(h.correlationID, flexible, m.msg)
	}
	size := cl.resp.Size()
	if size < 0 {
		return fmt.Errorf("%w: negative size %d", errBadResponse, size)
	}
	if err := w.appendHeader(size, h.correlationID, flexible); err != nil {
		return err
	}
	w.takeWritten()
	if err := cl.resp.WriteBody(w); err != nil {
		return err
	}
	if wrote := w.takeWritten(); wrote != int64(size) {
		return fmt.Errorf("%w: announced %d bytes, wrote %d", errBadResponse, size, wrote)
	}
	return nil
}

// checkMessage catches a response that does not match its request, which
// the client could not decode: a handler bug, reported rather than sent.
func checkMessage(h requestHeader, m *messageResponse) error {
	key, version := m.msg.Key(), m.msg.GetVersion()
	switch {
	case key != h.apiKey:
		return fmt.Errorf("%w: %s response to a %s request", errBadResponse, apiName(key), apiName(h.apiKey))
	case version != h.apiVersion && h.apiKey != apiVersionsKey:
		return fmt.Errorf("%w: v%d response to a v%d request", errBadResponse, version, h.apiVersion)
	}
	return nil
}
