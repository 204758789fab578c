package mutate

import "math/rand/v2"

// Dedup drops the mutants that are the same program as another: Gremlins
// lists both INVERT_NEGATIVES and ARITHMETIC_BASE at every '-' token, and
// both rewrite it to '+'. The ARITHMETIC_BASE twin goes. ms must be sorted
// (as ParseGremlins returns them); the result keeps that order and the
// second value counts the dropped twins.
func Dedup(ms []Mutant) ([]Mutant, int) {
	neg := map[[3]any]bool{}
	for _, m := range ms {
		if m.Type == "INVERT_NEGATIVES" {
			neg[[3]any{m.File, m.Line, m.Col}] = true
		}
	}
	out := make([]Mutant, 0, len(ms))
	for _, m := range ms {
		if m.Type == "ARITHMETIC_BASE" && neg[[3]any{m.File, m.Line, m.Col}] {
			continue
		}
		out = append(out, m)
	}
	return out, len(ms) - len(out)
}

// Sample draws n mutants (all of them when n ≥ len(ms)) without
// replacement, in draw order: the same seed and list give the same
// sample, and any prefix of it is itself a uniform sample, so a run cut
// short still measures an unbiased subset. ms is not modified.
func Sample(ms []Mutant, n int, seed uint64) []Mutant {
	s := append([]Mutant(nil), ms...)
	r := rand.New(rand.NewPCG(seed, seed^0x6d75746174652121))
	r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	if n < len(s) {
		s = s[:n]
	}
	return s
}
