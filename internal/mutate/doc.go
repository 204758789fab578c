// Package mutate runs a seeded sample of Gremlins' mutants of the sync
// packages against the project's tests and records, per mutant, which
// tests killed it.
//
// Gremlins (github.com/go-gremlins/gremlins, `gremlins unleash --dry-run
// -o FILE PKG`) enumerates the mutants: each is an operator token at a
// file:line:column and a mutator type. This package reads that output
// (ParseGremlins), draws a sample from a seed (Sample), rewrites the one
// token in a copy of the file (Apply), and runs `go test -overlay` with the
// copy standing in for the original (Runner): the working tree is never
// written. Schedule tests several mutants at once, started in draw order.
// Each outcome is appended to a JSON-lines file (Results), so a rerun with
// the same file continues where the last one stopped. No verdict depends on
// wall time: a stage is killed (timed out) only past its CPU limit, a
// multiple of its CPU on the unmutated tree; one the wall limit stops under
// it is Inconclusive and a rerun tests it again.
package mutate
