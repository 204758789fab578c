package web

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxConns bounds the connections a [Server] serves at once when
// Options.MaxConns is 0. The page, a Prometheus scraper and the command
// line use a handful; each open connection costs the server some 15 KB,
// so without a bound a client opening thousands (each allowed 10 s to
// send its headers) could take the memory of a CMC's management
// processor.
const DefaultMaxConns = 128

// DefaultMaxConnsPerClient bounds the connections one client address
// holds at once when Options.MaxConnsPerClient is 0 (or MaxConns, when
// that is smaller): a browser opens at most 6 per host, a scraper and a
// script one or two, so one client cannot take every connection.
const DefaultMaxConnsPerClient = 16

// MaxConnsLimit is the largest Options.MaxConns (and --max-conns) accepted:
// 4096 connections take some 60 MB of the server's memory.
const MaxConnsLimit = 4096

// MaxStreamsPerConn is the SETTINGS_MAX_CONCURRENT_STREAMS an HTTP/2
// connection of [Server.HTTPServer] advertises (net/http's default is
// 250): a browser's page needs a few streams at once, and each waiting
// stream holds a goroutine of the server.
const MaxStreamsPerConn = 8

// CheckConnLimits reports whether maxConns and perClient are usable
// connection limits: maxConns from 1 to [MaxConnsLimit], perClient from
// 1 to maxConns. It is the one check of both, for [New] (after the
// defaults replaced 0) and for the daemon's flags and configuration file
// (before anything is served). The error says what is allowed.
func CheckConnLimits(maxConns, perClient int) error {
	if maxConns < 1 || maxConns > MaxConnsLimit {
		return fmt.Errorf("max connections %d is out of range: give 1 to %d (default %d)", maxConns, MaxConnsLimit, DefaultMaxConns)
	}
	if perClient < 1 || perClient > maxConns {
		return fmt.Errorf("max connections per client %d is out of range: give 1 to the max connections, %d (default %d)", perClient, maxConns, min(DefaultMaxConnsPerClient, maxConns))
	}
	return nil
}

// MaxHeaderWait is how long a connection may take to send its request's
// headers (from when it gets its slot, or from the first byte of a
// keep-alive connection's next request; a TLS handshake included) while at most half
// of the connection slots are taken: net/http's ReadHeaderTimeout of
// [Server.HTTPServer]. MinHeaderWait is the wait when every slot is
// taken; in between it falls linearly (headerWait). A client that sends
// its headers at once (any browser, curl, a scraper) needs milliseconds;
// clients on many addresses that each hold slots by sending their
// headers slowly hold each for at most MinHeaderWait once they fill the
// server, not MaxHeaderWait.
const (
	MaxHeaderWait = 10 * time.Second
	MinHeaderWait = time.Second
)

// headerWait is the header deadline while taken of total slots are taken:
// MaxHeaderWait up to half of them, then falling linearly to
// MinHeaderWait when all are.
func headerWait(taken, total int) time.Duration {
	half := total / 2
	if taken <= half || total <= 0 {
		return MaxHeaderWait
	}
	over, span := min(taken, total)-half, total-half
	return MaxHeaderWait - time.Duration(over)*(MaxHeaderWait-MinHeaderWait)/time.Duration(span)
}

// clientKey is the client a connection counts against for
// Options.MaxConnsPerClient: its IPv4 address, or the /64 prefix of its
// IPv6 address (a host on an IPv6 network may have any address of its
// /64). A loopback address counts like any other: every client on this
// host shares 127.0.0.1. A connection that is not TCP (a Unix socket) is
// one client with every other.
func clientKey(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.Network()
	}
	ip := ta.AddrPort().Addr().Unmap().WithZone("")
	if ip.Is4() {
		return ip.String()
	}
	p, err := ip.Prefix(64)
	if err != nil {
		return ip.String()
	}
	return p.String()
}

// limitListener serves at most cap(sem) connections at once, and at most
// perClient of them from one client (clientKey).
//
// A client beyond its own bound: its new connection replaces its own
// connection idle longest, or else its own connection that has sent
// nothing at all for longest (no request begun: a flood of silent
// connections does not lock its own client's next requests out for the
// 10 s they are allowed); when every one of its connections has a request
// begun, the new one is closed at once, before anything is read from it.
// Other clients' connections are not touched.
//
// Every slot taken: Accept closes the connection that has been idle
// longest (a keep-alive HTTP/1 connection between requests, an HTTP/2 one
// with no open stream), so that a client holding every slot with idle
// connections (each allowed IdleTimeout) cannot lock others out; when none
// is idle, it waits (with that one connection in hand, more in the
// kernel's backlog) until an accepted connection is closed or turns idle.
//
// Idle means idle: an HTTP/1 connection that net/http reports idle but
// from which the first bytes of its next request have been read (net/http
// reports it active only once the whole header is in) is in flight and is
// never closed for another (see limitConn.Read).
type limitListener struct {
	net.Listener
	sem       chan struct{}
	perClient int
	logf      func(string) // one line per connection refused (rate-limited by the caller)
	refused   func()       // counts a connection refused
	// slowHeaders counts a connection closed for its overdue headers.
	slowHeaders func()
	done        chan struct{}
	closeOnce   sync.Once

	mu      sync.Mutex
	conns   map[*limitConn]struct{} // accepted and not closed
	clients map[string]int          // clientKey -> connections accepted and not closed
	idleCh  chan struct{}           // signalled (cap 1) when a connection turns idle
	// reapCh (cap 1) wakes the header reaper (reapHeaders): a header
	// wait began, or more slots are taken (a shorter wait).
	reapCh chan struct{}

	// events, if set, is told what happens to connections (for tests),
	// before the close a client sees:
	// "idle", "busy" (an idle connection's next request began), "replaced"
	// (closed for another), "refused", "slow-headers" (closed: its
	// headers did not arrive within headerWait).
	events func(string)
}

// newLimitListener wraps ln to serve at most n connections at once, at
// most perClient from one client. The http.Server serving it must report
// its connections' states to connState.
func newLimitListener(ln net.Listener, n, perClient int, logf func(string)) *limitListener {
	l := &limitListener{Listener: ln, sem: make(chan struct{}, n), perClient: perClient, logf: logf, done: make(chan struct{}),
		conns: map[*limitConn]struct{}{}, clients: map[string]int{}, idleCh: make(chan struct{}, 1), reapCh: make(chan struct{}, 1)}
	go l.reapHeaders()
	return l
}

// wakeReaper tells reapHeaders to look again.
func (l *limitListener) wakeReaper() {
	select {
	case l.reapCh <- struct{}{}:
	default:
	}
}

// reapHeaders closes every connection still in its headers for longer
// than headerWait of the slots taken now, or than the shortest wait it was
// given while it waited (their Close frees their slots),
// then sleeps until the next such deadline or a wake-up, until the
// listener is closed. net/http's own ReadHeaderTimeout (MaxHeaderWait)
// still applies; this only makes the wait shorter as slots fill.
func (l *limitListener) reapHeaders() {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		wait := time.Hour
		if next := l.closeSlowHeaders(time.Now()); !next.IsZero() {
			wait = max(time.Until(next), time.Millisecond)
		}
		t.Reset(wait)
		select {
		case <-t.C:
		case <-l.reapCh:
		case <-l.done:
			return
		}
	}
}

// closeSlowHeaders closes the connections whose headers are overdue at
// now and returns the earliest deadline of the others (zero: none).
func (l *limitListener) closeSlowHeaders(now time.Time) time.Time {
	l.mu.Lock()
	taken, total := len(l.sem), cap(l.sem)
	wait := headerWait(taken, total)
	var victims []*limitConn
	var next time.Time
	for c := range l.conns {
		if c.headerSince.IsZero() || c.picked {
			continue
		}
		// A deadline only ever moves earlier: a connection whose
		// headers were due at MinHeaderWait while the server was full
		// stays due then when the closes of the others (due a moment
		// before it) free slots, so no slow-header connection that
		// helped fill the server keeps its slot for MaxHeaderWait.
		due := c.headerSince.Add(wait)
		if !c.headerDue.IsZero() && c.headerDue.Before(due) {
			due = c.headerDue
		}
		c.headerDue = due
		if !now.Before(due) {
			c.picked = true
			c.setHeaderSince(time.Time{})
			victims = append(victims, c)
			continue
		}
		if next.IsZero() || due.Before(next) {
			next = due
		}
	}
	l.mu.Unlock()
	for _, c := range victims {
		// Counted, logged and told (events) before the close its
		// client sees.
		if l.slowHeaders != nil {
			l.slowHeaders()
		}
		if l.logf != nil {
			l.logf(fmt.Sprintf("web: connection from %s closed: its request headers did not arrive within %v (the header deadline while %d of %d connections are taken)", c.key, wait, taken, total))
		}
		l.event("slow-headers")
		c.Close()
	}
	return next
}

func (l *limitListener) event(ev string) {
	if l.events != nil {
		l.events(ev)
	}
}

// Accept waits for a connection its client may open, then for a free
// slot, closing the longest-idle connection for it now or when one turns
// idle.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		lc, ok := l.admit(c)
		if !ok {
			continue
		}
		for {
			select {
			case l.sem <- struct{}{}:
				return l.served(lc), nil
			default:
			}
			l.closeIdlest("")
			select {
			case l.sem <- struct{}{}:
				return l.served(lc), nil
			case <-l.idleCh: // a busy connection turned idle: take its slot
			case <-l.done:
				lc.Close()
				return nil, net.ErrClosed
			}
		}
	}
}

// served marks lc, which holds a slot now, as waiting for its headers
// from now on (not from its accept: a connection waiting for a slot has
// not been read from) and wakes the header reaper (more slots taken: a
// shorter wait).
func (l *limitListener) served(lc *limitConn) *limitConn {
	lc.slot.Store(true)
	l.mu.Lock()
	lc.setHeaderSince(time.Now())
	l.mu.Unlock()
	l.wakeReaper()
	return lc
}

// admit counts c against its client's bound, replacing the client's own
// longest-idle, else longest-silent, connection when it has reached it;
// when there is none, it closes c and reports false.
func (l *limitListener) admit(c net.Conn) (*limitConn, bool) {
	key := clientKey(c.RemoteAddr())
	l.mu.Lock()
	var victim *limitConn
	if l.clients[key] >= l.perClient {
		victim = l.idlestLocked(key)
		if victim == nil {
			victim = l.silentLocked(key)
		}
		if victim == nil {
			n := l.clients[key]
			l.mu.Unlock()
			// Counted, told and logged before the close its client sees.
			if l.refused != nil {
				l.refused()
			}
			l.event("refused")
			if l.logf != nil {
				l.logf(fmt.Sprintf("web: connection from %s refused: that client has %d connections open, the most per client (serve's --max-conns-per-client), each with a request begun and none idle", key, n))
			}
			c.Close()
			return nil, false
		}
	}
	lc := &limitConn{Conn: c, l: l, key: key, accepted: time.Now()}
	lc.silent.Store(true)
	l.conns[lc] = struct{}{}
	l.clients[key]++
	l.mu.Unlock()
	if victim != nil {
		l.event("replaced")
		victim.Close()
	}
	return lc, true
}

// closeIdlest closes the connection idle longest (of client key; any
// client's for ""), if any is idle; its Close frees its slot.
func (l *limitListener) closeIdlest(key string) {
	l.mu.Lock()
	victim := l.idlestLocked(key)
	l.mu.Unlock()
	if victim != nil {
		l.event("replaced")
		victim.Close()
	}
}

// idlestLocked picks the connection idle longest (of client key; any
// client's for "") and marks it no longer idle, so that no one else picks
// it and its Read no longer counts it; nil when none is idle. l.mu is
// held.
func (l *limitListener) idlestLocked(key string) *limitConn {
	var idlest *limitConn
	for c := range l.conns {
		if !c.idle || (key != "" && c.key != key) {
			continue
		}
		if idlest == nil || c.idleSince.Before(idlest.idleSince) {
			idlest = c
		}
	}
	if idlest != nil {
		idlest.idle = false
		idlest.watch.Store(false)
	}
	return idlest
}

// silentLocked picks client key's connection accepted longest ago of
// those from which nothing at all has been read yet (no request begun; a
// TLS connection's ClientHello counts), and marks it picked; nil when
// there is none. l.mu is held.
func (l *limitListener) silentLocked(key string) *limitConn {
	var oldest *limitConn
	for c := range l.conns {
		if c.key != key || c.picked || !c.silent.Load() {
			continue
		}
		if oldest == nil || c.accepted.Before(oldest.accepted) {
			oldest = c
		}
	}
	if oldest != nil {
		oldest.picked = true
	}
	return oldest
}

// connState is the http.Server's ConnState hook: it keeps track of which
// accepted connections are idle.
func (l *limitListener) connState(c net.Conn, st http.ConnState) {
	h2 := false
	if tc, ok := c.(*tls.Conn); ok {
		h2 = tc.ConnectionState().NegotiatedProtocol == "h2"
		c = tc.NetConn()
	}
	lc, ok := c.(*limitConn)
	if !ok {
		return
	}
	l.mu.Lock()
	if _, open := l.conns[lc]; !open {
		l.mu.Unlock()
		return
	}
	lc.idle = st == http.StateIdle
	if st != http.StateNew {
		// Active: its headers are in (an HTTP/2 connection: its
		// preface); idle: waiting for a next request, which busy notes.
		lc.setHeaderSince(time.Time{})
	}
	// An HTTP/2 server reads every frame as it arrives (a client's
	// WINDOW_UPDATE or PING after its last stream included) and reports
	// a stream that begins at once: for it the state says it all.
	lc.watch.Store(lc.idle && !h2)
	if lc.idle {
		lc.idleSince = time.Now()
	}
	l.mu.Unlock()
	if st == http.StateIdle {
		select {
		case l.idleCh <- struct{}{}:
		default:
		}
		l.event("idle")
	}
}

// busy records that bytes of a new request arrived on c, which net/http
// still reports idle: it is no longer a connection to close for another.
func (l *limitListener) busy(c *limitConn) {
	l.mu.Lock()
	was := c.idle
	c.idle = false
	c.watch.Store(false)
	if was {
		c.setHeaderSince(time.Now()) // the next request's headers arriving
	}
	l.mu.Unlock()
	if was {
		l.wakeReaper()
		l.event("busy")
	}
}

// Close closes the listener and ends an Accept waiting for a slot.
func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

// limitConn is an accepted connection: it frees its slot and its client's
// count once, at its first Close, and tells its listener when bytes
// arrive while it is idle.
type limitConn struct {
	net.Conn
	l     *limitListener
	key   string      // clientKey
	slot  atomic.Bool // holds one of the listener's slots
	watch atomic.Bool // idle HTTP/1: a Read of data makes it busy
	// silent is true until the first Read of data: no request has begun.
	silent   atomic.Bool
	accepted time.Time
	once     sync.Once

	// guarded by l.mu
	idle      bool
	idleSince time.Time
	picked    bool // chosen to be closed for another
	// headerSince is when the headers it waits for began (it got its
	// slot, or the first byte of a keep-alive connection's next request
	// came); zero while it waits for a slot, is active or is idle
	// (reapHeaders).
	headerSince time.Time
	// headerDue is the earliest deadline closeSlowHeaders gave the
	// headers begun at headerSince (zero: none yet).
	headerDue time.Time
}

// setHeaderSince starts (t) or ends (zero) a wait for headers, with no
// deadline given yet. l.mu is held.
func (c *limitConn) setHeaderSince(t time.Time) {
	c.headerSince = t
	c.headerDue = time.Time{}
}

// Read reads from the connection; data read while it is idle is the
// start of a request in flight (limitListener.busy).
func (c *limitConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.silent.Load() {
		c.silent.Store(false)
	}
	if n > 0 && c.watch.Load() {
		c.l.busy(c)
	}
	return n, err
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		l := c.l
		l.mu.Lock()
		delete(l.conns, c)
		if l.clients[c.key]--; l.clients[c.key] <= 0 {
			delete(l.clients, c.key)
		}
		l.mu.Unlock()
		if c.slot.Load() {
			<-l.sem
		}
	})
	return err
}
