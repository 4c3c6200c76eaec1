package wire

import (
	"net"
	"sync"
)

// Session is the per-connection state handlers share: who the client is and
// whatever the handlers choose to remember about it (an authenticated
// principal, a producer id…). Handlers of one connection run concurrently,
// so every method is safe for concurrent use.
type Session struct {
	id     uint64
	remote net.Addr
	local  net.Addr

	mu              sync.Mutex
	values          map[any]any
	softwareName    string
	softwareVersion string
}

func newSession(id uint64, nc net.Conn) *Session {
	return &Session{id: id, remote: nc.RemoteAddr(), local: nc.LocalAddr()}
}

// ID identifies the connection among all connections the server accepted.
func (s *Session) ID() uint64 { return s.id }

// RemoteAddr is the client's address.
func (s *Session) RemoteAddr() net.Addr { return s.remote }

// LocalAddr is the address the client connected to.
func (s *Session) LocalAddr() net.Addr { return s.local }

// ClientSoftware is the client library's name and version as the client
// announced them in ApiVersions v3 or later; empty before that.
func (s *Session) ClientSoftware() (name, version string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.softwareName, s.softwareVersion
}

func (s *Session) setClientSoftware(name, version string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.softwareName, s.softwareVersion = name, version
}

// SessionKey names one typed value kept in a Session. Create one per kind of
// value with NewSessionKey and keep it in the handler's own state; two keys
// never collide, even with the same name.
type SessionKey[T any] struct {
	name string
}

// NewSessionKey returns a key for values of type T; name only helps
// debugging.
func NewSessionKey[T any](name string) *SessionKey[T] {
	return &SessionKey[T]{name: name}
}

// String returns the key's name.
func (k *SessionKey[T]) String() string { return k.name }

// Get returns the value stored under k in s, and whether there was one.
func (k *SessionKey[T]) Get(s *Session) (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values[k]
	if !ok {
		var zero T
		return zero, false
	}
	return v.(T), true
}

// Set stores v under k in s, replacing any earlier value.
func (k *SessionKey[T]) Set(s *Session, v T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = make(map[any]any)
	}
	s.values[k] = v
}

// Delete removes the value stored under k in s, if any.
func (k *SessionKey[T]) Delete(s *Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.values, k)
}
