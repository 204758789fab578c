package web

import (
	"crypto/subtle"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
)

//go:embed static
var staticFiles embed.FS

// DefaultMaxBodyBytes is the largest request body the API reads when
// Options.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 64 << 10

// DefaultRoundHistory is how many recent rounds the chart keeps when
// Options.RoundHistory is 0.
const DefaultRoundHistory = 60

// Options configure a [Server].
type Options struct {
	// Token is the bearer token every change must carry. Required.
	Token string
	// MaxBodyBytes bounds request bodies (0: DefaultMaxBodyBytes). A
	// larger body gets 413 and changes nothing.
	MaxBodyBytes int64
	// RoundHistory is how many recent rounds /api/rounds and the chart
	// keep (0: DefaultRoundHistory).
	RoundHistory int
	// Logf, if set, receives one line per refused or failed request, and
	// the HTTP server's own errors (see [Server.HTTPServer]). Whatever came
	// from the request is quoted and cut to a few hundred bytes, and the
	// lines are rate-limited (a burst of 20, then 2 a second), so no
	// client can forge lines or flood the log; the token, should a client
	// put it in a path, is logged as "[token]".
	Logf func(format string, a ...any)
	// AllowedHosts, if not empty, lists the host names (without port) that
	// requests may name in their Host header; others get 421. A server on a
	// loopback address sets it to the loopback names, so that a web page
	// whose DNS name is rebound to 127.0.0.1 cannot read the API.
	AllowedHosts []string
	// TLSCert and TLSKey name PEM files of the server's certificate (chain)
	// and private key. When both are set, [Server.Serve] serves HTTPS. A
	// server reachable from other hosts needs them (see
	// [Options.ForListener]).
	TLSCert, TLSKey string
	// MaxConns bounds the connections [Server.Serve] serves at once (0:
	// DefaultMaxConns; at most MaxConnsLimit); a new one beyond them
	// replaces the longest-idle connection, or waits until one closes or
	// turns idle when none is idle. A connection with a request in flight
	// is never closed for another. It sizes the request slots too (also
	// for requests that arrive as streams of one HTTP/2 connection, each
	// of which carries at most MaxStreamsPerConn): a quarter reserved for
	// reads with the token, a quarter at most for requests without it
	// (beyond: 503 at once), the rest for changes with the token (see
	// [Server.HTTPServer]).
	MaxConns int
	// MaxConnsPerClient bounds the connections one client address (an
	// IPv4 address, an IPv6 /64; loopback counts like any other) holds
	// at once (0: DefaultMaxConnsPerClient, or MaxConns when that is
	// smaller). A client's connection beyond it replaces that client's
	// own longest-idle connection, or is closed at once when none of its
	// connections is idle; other clients' connections are not touched.
	MaxConnsPerClient int
	// RequireTokenForReads makes every API read and /metrics need the
	// token too (401 without it). The page and its files stay open so a
	// browser can load it and ask for the token. [Options.ForListener]
	// sets it for an address reachable from other hosts.
	RequireTokenForReads bool
}

// Server is the page, the JSON API and /metrics as one http.Handler. It is
// safe for concurrent use.
type Server struct {
	backend Backend
	opts    Options
	mux     *http.ServeMux
	csrf    *http.CrossOriginProtection
	metrics *metrics
	log     *requestLog
	tls     *tls.Config  // nil: plain HTTP
	slots   requestSlots // request slots of HTTPServer's handler, sized from Options.MaxConns

	// configMu serializes the configuration changes (PUT /api/config and
	// /api/selection): a selection's read of the configuration and its
	// write are one step, so it never writes back members another change
	// replaced in between.
	configMu sync.Mutex

	mu     sync.Mutex
	rounds []Round // recent, oldest first, at most opts.RoundHistory

	// connEvents, if set (by tests, before Serve), is told what Serve's
	// listener does with connections (limitListener.events).
	connEvents func(string)
}

// New returns a Server for b. It fails when no token is given, a limit is
// out of range (negative, or beyond CheckConnLimits) or the TLS files
// cannot be loaded.
func New(b Backend, o Options) (*Server, error) {
	if b == nil {
		return nil, errors.New("web: nil backend")
	}
	if len(o.Token) < minTokenLen {
		return nil, errors.New("web: an API token of at least 16 characters is required (see LoadOrCreateToken)")
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.RoundHistory <= 0 {
		o.RoundHistory = DefaultRoundHistory
	}
	if o.MaxConns == 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxConnsPerClient == 0 {
		o.MaxConnsPerClient = min(DefaultMaxConnsPerClient, o.MaxConns)
	}
	if err := CheckConnLimits(o.MaxConns, o.MaxConnsPerClient); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	tlsConfig, err := loadTLS(o)
	if err != nil {
		return nil, err
	}
	s := &Server{backend: b, opts: o, mux: http.NewServeMux(), csrf: http.NewCrossOriginProtection(), log: newRequestLog(o.Logf, o.Token), tls: tlsConfig, slots: newRequestSlots(o.MaxConns)}
	s.metrics = newMetrics(b, o, s.slots)

	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	files := http.FileServerFS(static)
	page := []string{"/{$}", "/app.js", "/app.css", "/favicon.svg"}
	for _, path := range page {
		s.mux.Handle("GET "+path, files)
	}
	s.mux.Handle("GET /metrics", s.read(s.metrics.handler().ServeHTTP))

	api := []struct {
		method, path string
		h            http.HandlerFunc
	}{
		{"GET", "/api/status", s.read(s.getStatus)},
		{"GET", "/api/types", s.read(s.getTypes)},
		{"GET", "/api/selection", s.read(s.getSelection)},
		{"PUT", "/api/selection", s.change(s.putSelection)},
		{"GET", "/api/config", s.read(s.getConfig)},
		{"PUT", "/api/config", s.change(s.putConfig)},
		{"GET", "/api/events", s.read(s.getEvents)},
		{"GET", "/api/rounds", s.read(s.getRounds)},
		{"POST", "/api/sync", s.change(s.postSync)},
		{"POST", "/api/upgrade", s.change(s.postUpgrade)},
		{"POST", "/api/failback", s.change(s.postFailback)},
		{"PUT", "/api/info/{type}", s.change(s.putInfo)},
		{"POST", "/api/simulate/upgrade", s.change(s.postSimulateUpgrade)},
		{"GET", "/api/auth", s.change(s.getAuth)},
	}
	allowed := map[string][]string{"/metrics": {"GET"}}
	for _, path := range page {
		allowed[path] = []string{"GET"}
	}
	for _, e := range api {
		s.mux.HandleFunc(e.method+" "+e.path, e.h)
		allowed[e.path] = append(allowed[e.path], e.method)
	}
	s.mux.Handle("/", s.routingErrors(allowed))
	return s, nil
}

// routingErrors answers every request no route takes, in the API's JSON
// error convention (docs/API.md): 405 with Allow when the path is served
// but not with this method (a path pattern such as /api/info/{type}
// counts: GET /api/info/power is a wrong method, not an unknown
// endpoint), else 404. allowed maps each route's path pattern to its
// methods; a GET route also answers HEAD.
func (s *Server) routingErrors(allowed map[string][]string) http.Handler {
	shapes := http.NewServeMux() // the same path patterns, without methods
	for path, methods := range allowed {
		if slices.Contains(methods, http.MethodGet) {
			methods = append(slices.Clone(methods), http.MethodHead)
		}
		slices.Sort(methods)
		shapes.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", strings.Join(methods, ", "))
			s.fail(w, r, http.StatusMethodNotAllowed, &ErrorBody{Error: fmt.Sprintf("method %s not allowed on this endpoint (use %s)", quoted(r.Method, 16), strings.Join(methods, " or "))})
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, pattern := shapes.Handler(r); pattern != "" {
			h.ServeHTTP(w, r)
			return
		}
		// The path is not repeated: the log line has it already (once).
		msg := "no such API endpoint (docs/API.md lists them)"
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			msg = "no such page or endpoint: the page is at /, the API under /api/ (docs/API.md lists them)"
		}
		s.fail(w, r, http.StatusNotFound, &ErrorBody{Error: msg})
	})
}

// setHardeningHeaders sets the headers every answer carries.
func (s *Server) setHardeningHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("Cache-Control", "no-store")
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.setHardeningHeaders(w)
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	if len(uri) > MaxURIBytes {
		s.fail(w, r, http.StatusRequestURITooLong, &ErrorBody{Error: fmt.Sprintf("request URI of %d bytes is longer than %d: no endpoint has such a long path (see docs/API.md)", len(uri), MaxURIBytes)})
		return
	}
	if !s.hostAllowed(r.Host) {
		s.fail(w, r, http.StatusMisdirectedRequest, &ErrorBody{Error: fmt.Sprintf("host %s is not served here (use the address the server printed, e.g. 127.0.0.1)", quoted(r.Host, 64))})
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/") { // OPTIONS * or CONNECT host:port: no page or endpoint
		s.fail(w, r, http.StatusNotFound, &ErrorBody{Error: "no such page or endpoint: the page is at /, the API under /api/ (docs/API.md lists them)"})
		return
	}
	s.mux.ServeHTTP(w, r)
}

// hostAllowed reports whether a request's Host header names a host in
// Options.AllowedHosts (any host when that is empty).
func (s *Server) hostAllowed(host string) bool {
	if len(s.opts.AllowedHosts) == 0 {
		return true
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	for _, a := range s.opts.AllowedHosts {
		if strings.EqualFold(host, a) {
			return true
		}
	}
	return false
}

// LoopbackHosts are the host names a server listening on a loopback
// address answers to (Options.AllowedHosts).
var LoopbackHosts = []string{"localhost", "127.0.0.1", "::1"}

// RecordRound adds a round that the caller ran (a scheduled one) to the
// chart history and the round-duration histogram. Rounds run through
// POST /api/sync are recorded by the Server itself.
func (s *Server) RecordRound(r Round) {
	s.mu.Lock()
	s.rounds = append(s.rounds, r)
	if n := len(s.rounds) - s.opts.RoundHistory; n > 0 {
		s.rounds = slices.Delete(s.rounds, 0, n)
	}
	s.mu.Unlock()
	s.metrics.observe(r)
}

// Rounds returns the recent rounds, oldest first.
func (s *Server) Rounds() []Round {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rounds)
}

// change wraps a handler that changes state with the checks every change
// passes, in this order: not cross-site (403), a JSON body (415), the
// bearer token (401).
func (s *Server) change(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.csrf.Check(r); err != nil {
			s.fail(w, r, http.StatusForbidden, &ErrorBody{Error: "cross-site request refused: changes must come from this page or a non-browser client"})
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead { // GET /api/auth answers HEAD too; neither has a body
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				s.fail(w, r, http.StatusUnsupportedMediaType, &ErrorBody{Error: "send the request body as JSON with Content-Type: application/json"})
				return
			}
		}
		if !s.authorized(r) {
			s.unauthorized(w, r)
			return
		}
		h(w, r)
	}
}

// read wraps a handler that only reads: it needs the token when
// Options.RequireTokenForReads is set.
func (s *Server) read(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opts.RequireTokenForReads && !s.authorized(r) {
			s.unauthorized(w, r)
			return
		}
		h(w, r)
	}
}

func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="cmcsync"`)
	s.fail(w, r, http.StatusUnauthorized, &ErrorBody{Error: "missing or wrong API token: send Authorization: Bearer TOKEN (the token is in the state folder's api-token file)"})
}

// authorized: the request carries exactly one Authorization header, and
// it is "Bearer TOKEN" with the server's token. A request with two is
// refused whatever they hold: a proxy or client that adds a header of its
// own must not make the server pick one.
func (s *Server) authorized(r *http.Request) bool {
	if len(r.Header.Values("Authorization")) != 1 {
		return false
	}
	auth := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	tok = strings.TrimSpace(tok)
	return subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.Token)) == 1
}
