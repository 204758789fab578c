package store

// Suspect reports whether type t's committed chunks are suspect (damage
// to the journal may have let lost rounds reuse their blocks): the next
// Begin that syncs t reads every committed chunk of t and writes again
// the ones that no longer match their digests, whatever the plan's
// digests say. A caller that builds a plan from only some of t's chunks
// must give all of them when t is suspect.
func (s *Store) Suspect(t uint8) bool { return s.suspect[t] }
