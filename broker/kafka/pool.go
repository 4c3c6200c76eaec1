package kafka

import (
	"fmt"
	"sync"

	"github.com/IBM/sarama"
)

// maxIdlePerBroker bounds the idle connections kept per broker address.
const maxIdlePerBroker = 8

// pool hands out connections for data requests. A sarama.Broker serves one
// synchronous request at a time, so a fetch waiting for data on the
// connection sarama's client keeps would hold up every produce and commit
// to that broker; each data request therefore takes a connection of its
// own, kept afterwards for reuse.
type pool struct {
	conf *sarama.Config

	mu     sync.Mutex
	idle   map[string][]*sarama.Broker
	closed bool
}

func newPool(conf *sarama.Config) *pool {
	return &pool{conf: conf, idle: map[string][]*sarama.Broker{}}
}

// get returns an idle connection to addr or opens one.
func (p *pool) get(addr string) (*sarama.Broker, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, fmt.Errorf("kafka: connect to %s: %w", addr, sarama.ErrClosedClient)
	}
	if conns := p.idle[addr]; len(conns) > 0 {
		b := conns[len(conns)-1]
		p.idle[addr] = conns[:len(conns)-1]
		p.mu.Unlock()
		return b, nil
	}
	p.mu.Unlock()
	b := sarama.NewBroker(addr)
	if err := b.Open(p.conf); err != nil {
		return nil, fmt.Errorf("kafka: connect to %s: %w", addr, err)
	}
	if ok, err := b.Connected(); !ok {
		_ = b.Close()
		if err == nil {
			err = sarama.ErrNotConnected
		}
		return nil, fmt.Errorf("kafka: connect to %s: %w", addr, err)
	}
	return b, nil
}

// put returns a connection after a request that ended with err: broken
// ones are closed, the rest kept while there is room.
func (p *pool) put(b *sarama.Broker, err error) {
	if !connectionBroken(err) {
		p.mu.Lock()
		if !p.closed && len(p.idle[b.Addr()]) < maxIdlePerBroker {
			p.idle[b.Addr()] = append(p.idle[b.Addr()], b)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
	_ = b.Close()
}

// close closes the idle connections; connections in use are closed when
// they are put back.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for addr, conns := range p.idle {
		for _, b := range conns {
			_ = b.Close()
		}
		delete(p.idle, addr)
	}
}
