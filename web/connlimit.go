package web

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
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

// limitListener serves at most cap(sem) connections at once. Its Accept
// takes the next connection from the kernel; when every slot is taken it
// closes the connection that has been idle longest (a keep-alive HTTP/1
// connection between requests, an HTTP/2 one with no open stream), so that
// a client holding every slot with idle connections (each allowed
// IdleTimeout) cannot lock others out; when none is idle, it waits (with
// that one connection in hand, more in the kernel's backlog) until an
// accepted connection is closed.
type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once

	mu     sync.Mutex
	idle   map[net.Conn]time.Time // accepted connections now idle, and since when
	idleCh chan struct{}          // signalled (cap 1) when a connection turns idle
}

// newLimitListener wraps ln to serve at most n connections at once. The
// http.Server serving it must report its connections' states to
// connState.
func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{}), idle: map[net.Conn]time.Time{}, idleCh: make(chan struct{}, 1)}
}

// Accept waits for a connection, then for a free slot, closing the
// longest-idle connection for it now or when one turns idle.
func (l *limitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	for {
		select {
		case l.sem <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
		default:
		}
		l.closeIdlest()
		select {
		case l.sem <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
		case <-l.idleCh: // a busy connection turned idle: take its slot
		case <-l.done:
			c.Close()
			return nil, net.ErrClosed
		}
	}
}

// closeIdlest closes the connection idle longest, if any is idle; its
// Close frees its slot.
func (l *limitListener) closeIdlest() {
	l.mu.Lock()
	var idlest net.Conn
	var since time.Time
	for c, t := range l.idle {
		if idlest == nil || t.Before(since) {
			idlest, since = c, t
		}
	}
	delete(l.idle, idlest)
	l.mu.Unlock()
	if idlest != nil {
		idlest.Close()
	}
}

// connState is the http.Server's ConnState hook: it keeps track of which
// accepted connections are idle.
func (l *limitListener) connState(c net.Conn, st http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if st == http.StateIdle {
		l.idle[c] = time.Now()
		select {
		case l.idleCh <- struct{}{}:
		default:
		}
	} else {
		delete(l.idle, c)
	}
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
