// Package web serves cmcsync's information sync selection page and its JSON
// API: the front end of the sync method described at the top of README.md.
//
// A [Server] is an http.Handler. It serves
//
//   - the selection page at "/" (plain HTML, CSS and JavaScript embedded in
//     the binary with go:embed; no CDN, no build step): the checkbox model
//     with one option per information type whose detailed explanation shows
//     in one fixed display area when the option is focused or hovered or
//     its title is clicked (only the checkbox toggles the choice); the sync
//     configuration with validation; status, event log, the two
//     post-upgrade choices and a chart of recent rounds;
//   - the JSON API under "/api/" (documented in docs/API.md);
//   - Prometheus metrics at "/metrics".
//
// The package does not import the sync engine. It states what it needs as
// the small [Backend] interface with web-owned JSON types; the daemon
// (cmd/cmcsync serve) adapts the engine to it, and tests use a fake.
//
// Security (docs/API.md, Security): every change (PUT/POST) needs
// "Authorization: Bearer TOKEN" (see [LoadOrCreateToken], which also checks
// the state folder with [CheckStateDir]), a JSON content type, and must not
// come from another site (Sec-Fetch-Site / Origin, via
// net/http.CrossOriginProtection). Reads are open on a loopback address; on
// any other, [Options.ForListener] demands TLS and the token for reads too.
// Bodies are decoded strictly (no unknown, case-variant or repeated
// members); malformed ones get 400, oversized ones 413, with a JSON error, and change
// nothing. Request sizes are bounded ([Server.HTTPServer], MaxURIBytes), and
// everything logged from a request is quoted, cut and rate-limited.
// Connections are bounded in all and per client address, an idle one is
// closed for a new one but never one with a request in flight, and
// requests take slots by class, so that reads with the token never wait
// behind changes or tokenless requests, and a tokenless request's answer
// must be written within [OpenAnswerWait] (connlimit.go, reqslots.go;
// [Options.MaxConns], [Options.MaxConnsPerClient], [CheckConnLimits]).
// HTTP/2 is spoken over TLS only, never h2c ([Server.HTTPServer]).
//
// The daemon wires it as:
//
//	if err := web.CheckStateDir(dir); err != nil { ... }
//	token, created, err := web.LoadOrCreateToken(dir)
//	ln, err := net.Listen("tcp", addr)
//	opts, err := web.Options{Token: token, Logf: logf, TLSCert: cert, TLSKey: key}.ForListener(ln.Addr())
//	srv, err := web.New(backend, opts)
//	hs := srv.HTTPServer() // then set hs.BaseContext if wanted
//	err = srv.Serve(hs, ln) // HTTPS when TLS is set; hs.Shutdown stops it
package web
