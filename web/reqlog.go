package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Everything a Server logs passes through one requestLog, because most of
// what it logs comes from requests anyone can send, token or not. Three
// rules keep an unauthenticated client from forging or flooding the log:
//
//   - text from a request (path, method, error messages that repeat it) is
//     quoted with strconv.Quote, so CR, LF and other control bytes print as
//     escapes and can never start a line of their own;
//   - every such text is cut to a few hundred bytes;
//   - a refused request logs one line, and lines are rate-limited: a burst
//     of logBurst, then logLinesPerSecond; the next line written after a
//     quiet spell says how many were dropped.
//
// And the API token never reaches the log: a client may put it in a path
// by mistake, so every occurrence is replaced by "[token]" before the
// text is cut (a cut could otherwise leave part of it).
const (
	logBurst          = 20
	logLinesPerSecond = 2
	maxLoggedPath     = 256
	maxLoggedText     = 512
)

// requestLog writes bounded, escaped, rate-limited lines to a Logf. The
// zero value with logf nil logs nothing. Safe for concurrent use.
type requestLog struct {
	logf   func(format string, a ...any)
	now    func() time.Time
	secret string // the API token, redacted from what is logged ("": none)

	mu         sync.Mutex
	allowance  float64 // lines that may be written now, up to logBurst
	last       time.Time
	suppressed int
}

// newRequestLog returns a requestLog writing to logf that never logs
// secret (the API token; "" for none).
func newRequestLog(logf func(string, ...any), secret string) *requestLog {
	return &requestLog{logf: logf, now: time.Now, allowance: logBurst, secret: secret}
}

// redact returns s with every occurrence of the secret replaced.
func (l *requestLog) redact(s string) string {
	if l.secret == "" {
		return s
	}
	return strings.ReplaceAll(s, l.secret, "[token]")
}

// line writes one line unless the rate limit is reached. The caller has
// already escaped whatever came from a request.
func (l *requestLog) line(text string) {
	if l.logf == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if !l.last.IsZero() {
		l.allowance = min(logBurst, l.allowance+now.Sub(l.last).Seconds()*logLinesPerSecond)
	}
	l.last = now
	if l.allowance < 1 {
		l.suppressed++
		return
	}
	l.allowance--
	if l.suppressed > 0 {
		text += fmt.Sprintf(" (%d earlier lines not logged: more than %d a second)", l.suppressed, logLinesPerSecond)
		l.suppressed = 0
	}
	l.logf("%s", text)
}

// refused logs a request the Server answered with an error: one line with
// the status code, the method, the path and the error, each quoted and cut.
func (l *requestLog) refused(r *http.Request, code int, msg string) {
	if l.logf == nil {
		return
	}
	l.line(fmt.Sprintf("web: %d %s %s from %s: %s", code, quoted(l.redact(r.Method), 16), quoted(l.redact(r.URL.Path), maxLoggedPath), quoted(r.RemoteAddr, 64), quoted(l.redact(msg), maxLoggedText)))
}

// Write lets net/http's server log (http.Server.ErrorLog: TLS handshake
// failures, panics) through the same limits: one quoted line per call.
func (l *requestLog) Write(p []byte) (int, error) {
	text := string(p)
	if n := len(text); n > 0 && text[n-1] == '\n' {
		text = text[:n-1]
	}
	l.line("web: http server: " + quoted(l.redact(text), maxLoggedText))
	return len(p), nil
}

// quoted returns s cut to at most limit bytes, in Go quotes with every
// control byte escaped.
func quoted(s string, limit int) string {
	return strconv.Quote(capText(s, limit))
}

// capText returns s cut to at most limit bytes (at a rune boundary), with a
// note of how much was cut.
func capText(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(" + strconv.Itoa(len(s)-cut) + " more bytes)"
}
