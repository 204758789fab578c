package faults

import "math/rand/v2"

// makeUnstable makes n bytes at off of w read differently on each read,
// until they are next programmed or erased: with the device's own
// SetUnstable, else emulated by the injector (see shake).
func (in *Injector) makeUnstable(w *Flash, off, n int64) {
	if u, ok := ability[Unstabler](w.wrapped); ok {
		u.SetUnstable(off, n)
		return
	}
	if in.unstable == nil {
		in.unstable = map[Role][]span{}
	}
	in.unstable[w.role] = append(in.unstable[w.role], span{off, n})
}

// shake imitates unstable reads: bits that are 0 in the stored data read as
// random values in emulated unstable ranges.
func (in *Injector) shake(spans []span, p []byte, off int64) {
	in.mu.Lock()
	r := rand.New(rand.NewPCG(in.schedule.Seed, uint64(in.nextIndex)))
	in.mu.Unlock()
	for _, s := range spans {
		lo, hi := max(s.start, off), min(s.start+s.size, off+int64(len(p)))
		for a := lo; a < hi; a++ {
			p[a-off] |= byte(r.Uint32())
		}
	}
}

// weaken records n bytes at off of role as weakly programmed: they read
// right once, then differently (see readWeak). The caller holds in.mu.
func (in *Injector) weaken(role Role, off, n int64) {
	if in.weak == nil {
		in.weak = map[Role][]span{}
	}
	in.weak[role] = append(in.weak[role], span{off, n})
}

// readWeak follows a read of n bytes at off of w that returned the stored
// bytes: the weakly programmed bytes it read have been read right once,
// and read differently from now on.
func (in *Injector) readWeak(w *Flash, off, n int64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	spans := in.weak[w.role]
	if len(spans) == 0 {
		return
	}
	var keep []span
	for _, s := range spans {
		lo, hi := max(s.start, off), min(s.start+s.size, off+n)
		if lo >= hi {
			keep = append(keep, s)
			continue
		}
		in.makeUnstable(w, lo, hi-lo)
		keep = append(keep, cut(s, lo, hi)...)
	}
	in.weak[w.role] = keep
}

// ExpireWeak makes every weakly programmed range not read since its
// program read differently from now on, as if it had been read right once
// (a harness calls it when the phase that programmed them ends, before a
// restart reads the device through another injector).
func (in *Injector) ExpireWeak() {
	in.mu.Lock()
	defer in.mu.Unlock()
	for role, spans := range in.weak {
		for _, s := range spans {
			in.makeUnstable(in.devices[role], s.start, s.size)
		}
	}
	clear(in.weak)
}

// settleLocked (in.mu held) ends emulated instability and weak programs where a program or
// erase rewrites bytes; an erase also ends the changes of flips and
// scribbles there.
func (in *Injector) settleLocked(role Role, off, n int64, erase bool) {
	if len(in.unstable[role]) > 0 {
		in.unstable[role] = removeSpans(in.unstable[role], off, n)
	}
	if len(in.weak[role]) > 0 {
		in.weak[role] = removeSpans(in.weak[role], off, n)
	}
	if erase {
		in.untaint(role, off, n)
	}
}

// removeSpans returns spans without [off, off+n).
func removeSpans(spans []span, off, n int64) []span {
	if len(spans) == 0 {
		return spans
	}
	var keep []span
	for _, s := range spans {
		keep = append(keep, cut(s, off, off+n)...)
	}
	return keep
}

// cut returns what is left of s outside [lo, hi).
func cut(s span, lo, hi int64) []span {
	end := s.start + s.size
	if end <= lo || s.start >= hi {
		return []span{s}
	}
	var out []span
	if s.start < lo {
		out = append(out, span{s.start, lo - s.start})
	}
	if end > hi {
		out = append(out, span{hi, end - hi})
	}
	return out
}
