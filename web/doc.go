// Package web serves cmcsync's information sync selection page and its JSON
// API: the front end of the method in DESIGN.md §2 (claims 2, 5 and 6).
//
// A [Server] is an http.Handler. It serves
//
//   - the selection page at "/" (plain HTML, CSS and JavaScript embedded in
//     the binary with go:embed; no CDN, no build step): the checkbox model
//     with one option per information type whose detailed explanation shows
//     in one fixed display area when the option is clicked, focused or
//     hovered; the sync configuration with validation; status, event log,
//     the two post-upgrade choices and a chart of recent rounds;
//   - the JSON API under "/api/" (documented in docs/API.md);
//   - Prometheus metrics at "/metrics".
//
// The package does not import the sync engine. It states what it needs as
// the small [Backend] interface with web-owned JSON types; the daemon
// (cmd/cmcsync serve) adapts the engine to it, and tests use a fake.
//
// Security: reads are open; every change (PUT/POST) needs
// "Authorization: Bearer TOKEN" (see [LoadOrCreateToken]), a JSON content
// type, and must not come from another site (Sec-Fetch-Site / Origin, via
// net/http.CrossOriginProtection). Malformed or oversized bodies get
// 400 with a JSON error and change nothing.
package web
