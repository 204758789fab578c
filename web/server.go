package web

import (
	"bytes"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
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
	// larger body gets 400 and changes nothing.
	MaxBodyBytes int64
	// RoundHistory is how many recent rounds /api/rounds and the chart
	// keep (0: DefaultRoundHistory).
	RoundHistory int
	// Logf, if set, receives one line per refused or failed request.
	Logf func(format string, a ...any)
	// AllowedHosts, if not empty, lists the host names (without port) that
	// requests may name in their Host header; others get 421. A server on a
	// loopback address sets it to the loopback names, so that a web page
	// whose DNS name is rebound to 127.0.0.1 cannot read the API.
	AllowedHosts []string
}

// Server is the page, the JSON API and /metrics as one http.Handler. It is
// safe for concurrent use.
type Server struct {
	backend Backend
	opts    Options
	mux     *http.ServeMux
	csrf    *http.CrossOriginProtection
	metrics *metrics

	mu     sync.Mutex
	rounds []Round // recent, oldest first, at most opts.RoundHistory
}

// New returns a Server for b. It fails when no token is given.
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
	s := &Server{backend: b, opts: o, mux: http.NewServeMux(), csrf: http.NewCrossOriginProtection()}
	s.metrics = newMetrics(b)

	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	files := http.FileServerFS(static)
	s.mux.Handle("GET /{$}", files)
	for _, name := range []string{"app.js", "app.css", "favicon.svg"} {
		s.mux.Handle("GET /"+name, files)
	}
	s.mux.Handle("GET /metrics", s.metrics.handler())

	api := []struct {
		method, path string
		h            http.HandlerFunc
	}{
		{"GET", "/api/status", s.getStatus},
		{"GET", "/api/types", s.getTypes},
		{"GET", "/api/selection", s.getSelection},
		{"PUT", "/api/selection", s.change(s.putSelection)},
		{"GET", "/api/config", s.getConfig},
		{"PUT", "/api/config", s.change(s.putConfig)},
		{"GET", "/api/events", s.getEvents},
		{"GET", "/api/rounds", s.getRounds},
		{"POST", "/api/sync", s.change(s.postSync)},
		{"POST", "/api/upgrade", s.change(s.postUpgrade)},
		{"POST", "/api/simulate/upgrade", s.change(s.postSimulateUpgrade)},
		{"GET", "/api/auth", s.change(s.getAuth)},
	}
	allowed := map[string][]string{}
	for _, e := range api {
		s.mux.HandleFunc(e.method+" "+e.path, e.h)
		allowed[e.path] = append(allowed[e.path], e.method)
	}
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		if methods, ok := allowed[r.URL.Path]; ok {
			w.Header().Set("Allow", strings.Join(methods, ", "))
			s.fail(w, r, http.StatusMethodNotAllowed, &ErrorBody{Error: fmt.Sprintf("method %s not allowed on %s (use %s)", r.Method, r.URL.Path, strings.Join(methods, " or "))})
			return
		}
		s.fail(w, r, http.StatusNotFound, &ErrorBody{Error: "no such API endpoint: " + r.Method + " " + r.URL.Path + " (see docs/API.md)"})
	})
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("Cache-Control", "no-store")
	if !s.hostAllowed(r.Host) {
		s.fail(w, r, http.StatusMisdirectedRequest, &ErrorBody{Error: fmt.Sprintf("host %q is not served here (use the address the server printed, e.g. 127.0.0.1)", r.Host)})
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
		if r.Method != http.MethodGet {
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				s.fail(w, r, http.StatusUnsupportedMediaType, &ErrorBody{Error: "send the request body as JSON with Content-Type: application/json"})
				return
			}
		}
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cmcsync"`)
			s.fail(w, r, http.StatusUnauthorized, &ErrorBody{Error: "missing or wrong API token: send Authorization: Bearer TOKEN (the token is in the state folder's api-token file)"})
			return
		}
		h(w, r)
	}
}

func (s *Server) authorized(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	tok = strings.TrimSpace(tok)
	return subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.Token)) == 1
}

// decodeJSON is the strict decoder behind every request body.
func decodeJSON(body []byte, v any, allowEmpty bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return nil
		}
		return errors.New("request body is empty: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fmt.Errorf("malformed JSON at byte %d: %v", se.Offset, err)
		case errors.As(err, &te):
			if te.Field != "" {
				return &FieldError{te.Field, fmt.Sprintf("want a JSON %s, not %s", te.Type, te.Value)}
			}
			return fmt.Errorf("want a JSON object, not %s", te.Value)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return errors.New("malformed JSON: the body ends too early")
		}
		return fmt.Errorf("malformed request: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("malformed request: extra data after the JSON object")
	}
	return nil
}

// decodeConfig decodes a PUT /api/config body and validates it against the
// known type names.
func decodeConfig(body []byte, known []string) (Config, error) {
	var c Config
	if err := decodeJSON(body, &c, false); err != nil {
		return Config{}, err
	}
	if c.Types == nil {
		return Config{}, &FieldError{"types", "missing: list the chosen information types (may be empty)"}
	}
	if err := c.Validate(known); err != nil {
		return Config{}, err
	}
	return c, nil
}

// decodeSelection decodes a PUT /api/selection body.
func decodeSelection(body []byte, known []string) (Selection, error) {
	var sel Selection
	if err := decodeJSON(body, &sel, false); err != nil {
		return Selection{}, err
	}
	if sel.Types == nil {
		return Selection{}, &FieldError{"types", "missing: list the chosen information types (may be empty)"}
	}
	if err := (Config{Types: sel.Types, Interval: Duration(MinInterval), Threshold: Duration(MinThreshold)}).Validate(known); err != nil {
		return Selection{}, err
	}
	return sel, nil
}

// decodeUpgrade decodes a POST /api/upgrade body.
func decodeUpgrade(body []byte) (UpgradeRequest, error) {
	var u UpgradeRequest
	if err := decodeJSON(body, &u, false); err != nil {
		return UpgradeRequest{}, err
	}
	if !u.Choice.Valid() {
		return UpgradeRequest{}, &FieldError{"choice", fmt.Sprintf("unknown choice %q: want %q or %q", u.Choice, KeepUpgraded, RestoreDefaults)}
	}
	return u, nil
}

func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, s.opts.MaxBodyBytes+1))
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, &ErrorBody{Error: "read body: " + err.Error()})
		return nil, false
	}
	if int64(len(body)) > s.opts.MaxBodyBytes {
		s.fail(w, r, http.StatusBadRequest, &ErrorBody{Error: fmt.Sprintf("request body is larger than %d bytes", s.opts.MaxBodyBytes)})
		return nil, false
	}
	return body, true
}

func (s *Server) knownTypes() []string {
	ts := s.backend.Types()
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	return names
}

func (s *Server) status() Status {
	st := s.backend.Status()
	_, st.CanSimulateUpgrade = s.backend.(UpgradeSimulator)
	return st
}

func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.status())
}

func (s *Server) getTypes(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.backend.Types())
}

func (s *Server) getSelection(w http.ResponseWriter, r *http.Request) {
	s.writeSelection(w)
}

func (s *Server) getConfig(w http.ResponseWriter, r *http.Request) {
	s.writeConfig(w)
}

// writeConfig answers with the configuration as the backend holds it now.
func (s *Server) writeConfig(w http.ResponseWriter) {
	c := s.backend.Config()
	c.Types = nonNil(c.Types)
	writeJSON(w, http.StatusOK, c)
}

// writeSelection answers with the chosen types as the backend holds them now.
func (s *Server) writeSelection(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, Selection{Types: nonNil(s.backend.Config().Types)})
}

func (s *Server) putSelection(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	sel, err := decodeSelection(body, s.knownTypes())
	if err != nil {
		s.badRequest(w, r, err)
		return
	}
	c := s.backend.Config()
	c.Types = sel.Types
	if c.GroupSize > len(c.Types) {
		c.GroupSize = 0 // a group larger than the selection means "all"
	}
	if !s.setConfig(w, r, c) {
		return
	}
	s.writeSelection(w)
}

func (s *Server) putConfig(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	c, err := decodeConfig(body, s.knownTypes())
	if err != nil {
		s.badRequest(w, r, err)
		return
	}
	if !s.setConfig(w, r, c) {
		return
	}
	s.writeConfig(w)
}

func (s *Server) setConfig(w http.ResponseWriter, r *http.Request, c Config) bool {
	if err := s.backend.SetConfig(c); err != nil {
		s.backendError(w, r, "store configuration", err)
		return false
	}
	return true
}

func (s *Server) getEvents(w http.ResponseWriter, r *http.Request) {
	limit := 200
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			s.fail(w, r, http.StatusBadRequest, &ErrorBody{Error: "limit must be a whole number from 1 to 10000", Field: "limit"})
			return
		}
		limit = n
	}
	evs := s.backend.Events()
	slices.Reverse(evs) // newest first
	if len(evs) > limit {
		evs = evs[:limit]
	}
	writeJSON(w, http.StatusOK, nonNil(evs))
}

func (s *Server) getRounds(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, nonNil(s.Rounds()))
}

func (s *Server) postSync(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	var empty struct{}
	if err := decodeJSON(body, &empty, true); err != nil {
		s.badRequest(w, r, err)
		return
	}
	round, err := s.backend.SyncNow(r.Context())
	if err != nil {
		if round.Time.IsZero() {
			round.Time = time.Now()
		}
		round.Error = err.Error()
		s.RecordRound(round)
		s.backendError(w, r, "sync", err)
		return
	}
	s.RecordRound(round)
	writeJSON(w, http.StatusOK, round)
}

func (s *Server) postUpgrade(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	u, err := decodeUpgrade(body)
	if err != nil {
		s.badRequest(w, r, err)
		return
	}
	if err := s.backend.Upgrade(r.Context(), u.Choice); err != nil {
		s.backendError(w, r, "apply upgrade choice", err)
		return
	}
	writeJSON(w, http.StatusOK, s.status())
}

func (s *Server) postSimulateUpgrade(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	var empty struct{}
	if err := decodeJSON(body, &empty, true); err != nil {
		s.badRequest(w, r, err)
		return
	}
	sim, ok := s.backend.(UpgradeSimulator)
	if !ok {
		s.fail(w, r, http.StatusNotFound, &ErrorBody{Error: "this daemon runs on real flash: upgrades cannot be simulated"})
		return
	}
	if err := sim.SimulateUpgrade(r.Context()); err != nil {
		s.backendError(w, r, "simulate upgrade", err)
		return
	}
	writeJSON(w, http.StatusOK, s.status())
}

// getAuth lets the page check a token: 204 when it is right (the change
// wrapper answers 401 otherwise).
func (s *Server) getAuth(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusNoContent)
}

// backendError answers a Backend's error: 400 for ErrInvalid, 409 for
// ErrNoUpgrade and ErrConflict, else 500.
func (s *Server) backendError(w http.ResponseWriter, r *http.Request, what string, err error) {
	switch {
	case errors.Is(err, ErrInvalid):
		s.badRequest(w, r, err)
	case errors.Is(err, ErrNoUpgrade), errors.Is(err, ErrConflict):
		s.fail(w, r, http.StatusConflict, &ErrorBody{Error: err.Error()})
	default:
		s.fail(w, r, http.StatusInternalServerError, &ErrorBody{Error: what + ": " + err.Error()})
	}
}

func (s *Server) badRequest(w http.ResponseWriter, r *http.Request, err error) {
	body := &ErrorBody{Error: err.Error()}
	var fe *FieldError
	if errors.As(err, &fe) {
		body.Field = fe.Field
	}
	s.fail(w, r, http.StatusBadRequest, body)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, body *ErrorBody) {
	if s.opts.Logf != nil {
		s.opts.Logf("web: %s %s: %d %s", r.Method, r.URL.Path, code, body.Error)
	}
	writeJSON(w, code, body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(ErrorBody{Error: "encode response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
