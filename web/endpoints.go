package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// readBody reads a request body of at most Options.MaxBodyBytes; a larger
// one gets 413 Content Too Large (and http.MaxBytesReader closes the
// connection after it).
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	return s.readBodyMax(w, r, s.opts.MaxBodyBytes)
}

// readBodyMax is readBody with a limit of max bytes.
func (s *Server) readBodyMax(w http.ResponseWriter, r *http.Request, max int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		s.fail(w, r, http.StatusRequestEntityTooLarge, &ErrorBody{Error: fmt.Sprintf("request body is larger than %d bytes", max)})
		return nil, false
	case err != nil:
		s.fail(w, r, http.StatusBadRequest, &ErrorBody{Error: "read body: " + err.Error()})
		return nil, false
	}
	return body, true
}

// readRequest reads r's body (readBody) and decodes it with decode; when
// either fails it has answered (413 or 400) and ok is false.
func readRequest[T any](s *Server, w http.ResponseWriter, r *http.Request, decode func([]byte) (T, error)) (v T, ok bool) {
	body, ok := s.readBody(w, r)
	if !ok {
		return v, false
	}
	v, err := decode(body)
	if err != nil {
		s.badRequest(w, r, err)
		return v, false
	}
	return v, true
}

// readEmpty reads a body that must be empty (decodeEmpty); when it is not,
// it has answered 400 and returns false.
func (s *Server) readEmpty(w http.ResponseWriter, r *http.Request) bool {
	_, ok := readRequest(s, w, r, func(body []byte) (struct{}, error) { return struct{}{}, decodeEmpty(body) })
	return ok
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
	sel, ok := readRequest(s, w, r, func(body []byte) (Selection, error) { return decodeSelection(body, s.knownTypes()) })
	if !ok {
		return
	}
	s.configMu.Lock()
	c := s.backend.Config()
	c.Types = sel.Types
	if c.GroupSize > len(c.Types) {
		c.GroupSize = 0 // a group larger than the selection means "all"
	}
	ok = s.setConfig(w, r, c)
	s.configMu.Unlock()
	if !ok {
		return
	}
	s.writeSelection(w)
}

func (s *Server) putConfig(w http.ResponseWriter, r *http.Request) {
	c, ok := readRequest(s, w, r, func(body []byte) (Config, error) { return decodeConfig(body, s.knownTypes()) })
	if !ok {
		return
	}
	s.configMu.Lock()
	ok = s.setConfig(w, r, c)
	s.configMu.Unlock()
	if !ok {
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
	// The query is as strict as a body: a mistyped parameter (?limt=5)
	// would otherwise be ignored and the default answered.
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, &ErrorBody{Error: "malformed query: want ?limit=N"})
		return
	}
	for k, vs := range q {
		switch {
		case k != "limit":
			s.fail(w, r, http.StatusBadRequest, &ErrorBody{Error: fmt.Sprintf("%s: unknown query parameter (known: limit)", capText(k, maxNameEcho)), Field: capText(k, maxNameEcho)})
			return
		case len(vs) > 1:
			s.fail(w, r, http.StatusBadRequest, &ErrorBody{Error: "limit: given more than once", Field: "limit"})
			return
		}
	}
	if v := q.Get("limit"); v != "" {
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
	if !s.readEmpty(w, r) {
		return
	}
	round, err := s.backend.SyncNow(r.Context())
	if err != nil {
		if round.Time.IsZero() {
			round.Time = time.Now()
		}
		round.Error = err.Error()
		if !errors.Is(err, ErrTooManyWrites) { // refused: no round ran
			s.RecordRound(round)
		}
		s.backendError(w, r, "sync", err)
		return
	}
	s.RecordRound(round)
	writeJSON(w, http.StatusOK, round)
}

func (s *Server) postUpgrade(w http.ResponseWriter, r *http.Request) {
	u, ok := readRequest(s, w, r, decodeUpgrade)
	if !ok {
		return
	}
	if err := s.backend.Upgrade(r.Context(), u.Choice); err != nil {
		s.backendError(w, r, "apply upgrade choice", err)
		return
	}
	writeJSON(w, http.StatusOK, s.status())
}

func (s *Server) postFailback(w http.ResponseWriter, r *http.Request) {
	if !s.readEmpty(w, r) {
		return
	}
	fb, err := s.backend.Failback(r.Context())
	if err != nil {
		s.backendError(w, r, "failback", err)
		return
	}
	fb.Types = nonNil(fb.Types)
	writeJSON(w, http.StatusOK, fb)
}

// maxInfoBody bounds a PUT /api/info/{type} body: MaxInfoBytes in
// base64 and the rest of the object.
var maxInfoBody = int64(base64.StdEncoding.EncodedLen(MaxInfoBytes)) + 4096

func (s *Server) putInfo(w http.ResponseWriter, r *http.Request) {
	typ := r.PathValue("type")
	if !slices.Contains(s.knownTypes(), typ) {
		s.fail(w, r, http.StatusBadRequest, &ErrorBody{Error: fmt.Sprintf("unknown information type %q in the path (known: %s)", capText(typ, maxNameEcho), strings.Join(s.knownTypes(), ", ")), Field: "type"})
		return
	}
	body, ok := s.readBodyMax(w, r, max(s.opts.MaxBodyBytes, maxInfoBody))
	if !ok {
		return
	}
	p, err := decodeInfoPut(body, typ)
	if err != nil {
		s.badRequest(w, r, err)
		return
	}
	res, err := s.backend.PutInfo(r.Context(), p)
	var fe *FieldError
	if errors.Is(err, ErrInvalid) && !errors.As(err, &fe) {
		// The members decoded: what the backend refuses is the input
		// itself, so field names data_base64 (docs/API.md).
		err = &FieldError{"data_base64", strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")}
	}
	if err != nil {
		s.backendError(w, r, "put information", err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) postSimulateUpgrade(w http.ResponseWriter, r *http.Request) {
	if !s.readEmpty(w, r) {
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
// ErrNoUpgrade and ErrConflict, 429 for ErrTooManyWrites (with
// Retry-After when the error says it), else 500.
func (s *Server) backendError(w http.ResponseWriter, r *http.Request, what string, err error) {
	var retry interface{ RetryAfterSeconds() int }
	switch {
	case errors.Is(err, ErrTooManyWrites):
		if errors.As(err, &retry) {
			w.Header().Set("Retry-After", strconv.Itoa(max(retry.RetryAfterSeconds(), 1)))
		}
		s.fail(w, r, http.StatusTooManyRequests, &ErrorBody{Error: err.Error()})
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

// fail answers an error and logs the request once (see requestLog).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, body *ErrorBody) {
	s.log.refused(r, code, body.Error)
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
