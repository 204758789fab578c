package web

import (
	"fmt"
	"net/http"
	"time"
)

// OpenAnswerWait bounds the time the server takes to write its answer to a
// request without the API token, from when the request takes its slot
// (the page's files, open reads, refusals: all answered in milliseconds,
// the largest file, app.js, of some 40 KB in seconds on a slow link). A
// client that does not read its answer (an HTTP/2 client that grants no
// flow-control window, or a TCP receive window kept shut) would otherwise
// hold one of their slots for the server's 5 min WriteTimeout, and a few
// such clients keep the page from loading. Requests with the token keep
// the 5 min: a "sync now" waits for its round.
const OpenAnswerWait = 10 * time.Second

// limitRequests serves at most a bounded number of requests at once,
// however they arrive: one per HTTP/1 connection or many streams of one
// HTTP/2 connection (with TLS, net/http speaks HTTP/2, so the connection
// bound alone does not bound requests). Requests are served in three
// classes, each with its own slots (requestSlots), so that none waits
// behind another class: reads with the token, changes with the token, and
// requests without the right token. A request with the token waits for a
// slot of its class until its client goes away (it then gets no answer,
// as nobody reads one); one without it is answered 503 at once when its
// class's slots are taken, so that a flood without the token holds
// neither slots nor connections waiting.
func (s *Server) limitRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slots, authorized := s.slotsFor(r)
		if !authorized {
			select {
			case slots <- struct{}{}:
				// A client that does not read its answer (an HTTP/2
				// client granting no flow-control window, a TCP window
				// kept shut) would hold the slot for the server's
				// WriteTimeout.
				_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(OpenAnswerWait))
			default:
				s.metrics.busy.Inc()
				s.setHardeningHeaders(w)
				w.Header().Set("Retry-After", "1")
				s.fail(w, r, http.StatusServiceUnavailable, &ErrorBody{Error: fmt.Sprintf("busy: %d requests without the API token are being served, the most at once; retry in a second, or send Authorization: Bearer TOKEN", cap(slots))})
				return
			}
		} else {
			select {
			case slots <- struct{}{}:
			case <-r.Context().Done():
				return
			}
		}
		defer func() { <-slots }()
		h.ServeHTTP(w, r)
	})
}

// requestSlots are the request slots of the three classes (see
// limitRequests); their sizes follow from Options.MaxConns, n: a quarter
// (at least 1) reserved for reads with the token, a quarter (at least 1)
// at most for requests without it, the rest (at least 1) for changes with
// the token. So with the default 128, 32, 32 and 64.
type requestSlots struct {
	reads, changes, open chan struct{}
}

func newRequestSlots(n int) requestSlots {
	reads, open := max(1, n/4), max(1, n/4)
	return requestSlots{reads: make(chan struct{}, reads), open: make(chan struct{}, open), changes: make(chan struct{}, max(1, n-reads-open))}
}

// slotsFor returns the slots of r's class and whether r carries the right
// token.
func (s *Server) slotsFor(r *http.Request) (chan struct{}, bool) {
	switch {
	case !s.authorized(r):
		return s.slots.open, false
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		return s.slots.reads, true
	default:
		return s.slots.changes, true
	}
}
