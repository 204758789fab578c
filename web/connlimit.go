package web

import (
	"net"
	"net/http"
	"sync"
)

// DefaultMaxConns bounds the connections a [Server] serves at once when
// Options.MaxConns is 0. The page, a Prometheus scraper and the command
// line use a handful; each open connection costs the server some 15 KB,
// so without a bound a client opening thousands (each allowed 10 s to
// send its headers) could take the memory of a CMC's management
// processor.
const DefaultMaxConns = 128

// MaxStreamsPerConn is the SETTINGS_MAX_CONCURRENT_STREAMS an HTTP/2
// connection of [Server.HTTPServer] advertises (net/http's default is
// 250): a browser's page needs a few streams at once, and each waiting
// stream holds a goroutine of the server.
const MaxStreamsPerConn = 8

// limitRequests serves at most cap(s.reqs) requests at once, however they
// arrive: one per HTTP/1 connection or many streams of one HTTP/2
// connection (with TLS, net/http speaks HTTP/2, so the connection bound
// alone does not bound requests). A request waits for a slot until its
// client goes away; it then gets no answer, as nobody reads one.
func (s *Server) limitRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.reqs <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		defer func() { <-s.reqs }()
		h.ServeHTTP(w, r)
	})
}

// limitListener accepts at most cap(sem) connections at once: Accept
// waits (the kernel's backlog holds new connections) until an accepted
// connection is closed.
type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// newLimitListener wraps ln to serve at most n connections at once.
func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{})}
}

// Accept waits for a free slot, then for a connection.
func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

// Close closes the listener and ends an Accept waiting for a slot.
func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

// limitConn frees its slot once, at its first Close.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
