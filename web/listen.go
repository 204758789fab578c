package web

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"
)

// Limits of the HTTP server [Server.HTTPServer] returns.
const (
	// MaxHeaderBytes bounds the request line and headers together (net/http
	// answers 431 beyond it). The API's longest legitimate request line is
	// well under 100 bytes.
	MaxHeaderBytes = 16 << 10
	// MaxURIBytes bounds a request's path and query; a longer one gets 414
	// before anything else reads it.
	MaxURIBytes = 2048
)

// h2Window is the HTTP/2 receive window per connection and per stream: the
// most body an HTTP/2 client may send ahead of the handler reading it (the
// smallest window net/http accepts per connection).
const h2Window = 64 << 10

// ErrNeedTLS means the server would be reachable from other hosts without
// TLS: its token and the CMC's information would cross the network in
// clear text.
var ErrNeedTLS = errors.New("a listen address reachable from other hosts needs TLS")

// IsLoopback reports whether addr accepts connections from this host only:
// a TCP address on a loopback IP, or a Unix socket. An unspecified address
// (0.0.0.0, [::]) or any other IP is reachable from other hosts.
func IsLoopback(addr net.Addr) bool {
	switch a := addr.(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	}
	return false
}

// ForListener returns o adjusted to the address the server listens on, the
// policy of docs/API.md ("Security"):
//
//   - on a loopback address, AllowedHosts defaults to [LoopbackHosts] (no DNS
//     rebinding onto the local API); reads stay open;
//   - on any other address, TLSCert and TLSKey are required (else an error
//     wrapping [ErrNeedTLS] that says what to do), and
//     RequireTokenForReads is set: the CMC's information is not for anyone
//     on the network.
//
// The daemon calls it with its listener's Addr() before [New].
func (o Options) ForListener(addr net.Addr) (Options, error) {
	if IsLoopback(addr) {
		if len(o.AllowedHosts) == 0 {
			o.AllowedHosts = LoopbackHosts
		}
		return o, nil
	}
	if o.TLSCert == "" || o.TLSKey == "" {
		return o, fmt.Errorf("%w: %s accepts connections from other hosts; give a TLS certificate and key file to serve HTTPS there (reads then need the API token too), or listen on a loopback address such as 127.0.0.1:8080", ErrNeedTLS, addr)
	}
	o.RequireTokenForReads = true
	return o, nil
}

// loadTLS reads the certificate and key named in o, if any.
func loadTLS(o Options) (*tls.Config, error) {
	if o.TLSCert == "" && o.TLSKey == "" {
		return nil, nil
	}
	if o.TLSCert == "" || o.TLSKey == "" {
		return nil, errors.New("web: TLS needs both a certificate file and a key file")
	}
	cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("web: load the TLS certificate %s and key %s: %w (both PEM files; the key must match the certificate)", o.TLSCert, o.TLSKey, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// TLS reports whether the Server serves HTTPS (Options.TLSCert and TLSKey).
func (s *Server) TLS() bool { return s.tls != nil }

// Scheme is "https" when the Server serves TLS, else "http": what the
// daemon prints in the page's URL.
func (s *Server) Scheme() string {
	if s.TLS() {
		return "https"
	}
	return "http"
}

// HTTPServer returns an http.Server for s with bounded request sizes and
// times: headers at most MaxHeaderBytes and read within 10 s (MaxHeaderWait;
// down to MinHeaderWait as connection slots fill, see Serve), a whole
// request within 30 s, a response within 5 min (a "sync now" waits for its
// round), idle connections closed after 2 min, at most Options.MaxConns
// requests in handlers at once and MaxStreamsPerConn streams per HTTP/2
// connection; its error log goes through
// the Server's escaped, rate-limited log; and, when s serves TLS, its
// certificate. The caller may set BaseContext, then runs it with
// [Server.Serve].
func (s *Server) HTTPServer() *http.Server {
	// HTTP/1.1, and HTTP/2 over TLS only (ALPN h2), said explicitly: no
	// h2c, neither by upgrade nor by prior knowledge, so plain HTTP is
	// HTTP/1.1 alone. HTTP/2 connections are under the same connection
	// bounds and header deadline (its TLS handshake and preface) as
	// HTTP/1 ones; their streams under MaxStreamsPerConn, the windows
	// below, the request slots and OpenAnswerWait (limitRequests).
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	return &http.Server{
		Protocols:         &protocols,
		Handler:           s.limitRequests(s),
		ReadHeaderTimeout: MaxHeaderWait, // shorter as slots fill: limitListener.reapHeaders
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          log.New(s.log, "", 0),
		TLSConfig:         s.tls,
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams: MaxStreamsPerConn,
			// The flow-control windows bound what a client may send that
			// the server buffers before a handler reads it (net/http's
			// defaults: 1 MB per connection and stream).
			MaxReceiveBufferPerConnection: h2Window,
			MaxReceiveBufferPerStream:     h2Window,
		},
		// OPTIONS * goes to the Server too (JSON error, hardening
		// headers, Host check), not to net/http's bare 200.
		DisableGeneralOptionsHandler: true,
	}
}

// Serve runs hs (from [Server.HTTPServer]) on ln: HTTPS when s serves TLS,
// else HTTP, at most Options.MaxConns connections at once and at most
// Options.MaxConnsPerClient of them from one client (see limitListener):
// a new one beyond them replaces the longest-idle connection (of the same
// client, for the per-client bound), never one with a request in flight;
// when none is idle, it waits (in the listen backlog) until one closes or
// turns idle, or, beyond the per-client bound, is closed at once. Serve sets
// hs.ConnState (calling one already set too). Like http.Server.Serve it returns
// http.ErrServerClosed after a Shutdown.
func (s *Server) Serve(hs *http.Server, ln net.Listener) error {
	ll := newLimitListener(ln, s.opts.MaxConns, s.opts.MaxConnsPerClient, s.log.line)
	ll.events = s.connEvents
	ll.refused = s.metrics.refusedConns.Inc
	ll.slowHeaders = s.metrics.slowHeaders.Inc
	ln = ll
	prev := hs.ConnState
	hs.ConnState = func(c net.Conn, st http.ConnState) {
		ll.connState(c, st)
		if prev != nil {
			prev(c, st)
		}
	}
	if s.TLS() {
		return hs.ServeTLS(ln, "", "")
	}
	return hs.Serve(ln)
}
