package web

// SetConnEvents makes the listener of s's next Serve tell f what it does
// with connections: "idle", "busy" (bytes of the next request arrived on
// an idle connection), "replaced" (closed for another), "refused"
// (closed at once: its client is at its bound). f must not block.
func SetConnEvents(s *Server, f func(string)) { s.connEvents = f }

// ClientKey is clientKey, for its table test.
var ClientKey = clientKey

// HeaderWait is headerWait, for its table test.
var HeaderWait = headerWait
