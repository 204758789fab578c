package faults

import (
	"errors"
	"fmt"
	"slices"
)

// Span is a byte range of one device that flips or scribbles changed: Len
// bytes at Off, changed just before operation At (the earliest change, if
// several overlap).
type Span struct {
	Off, Len int64
	At       int64
}

// Corrupted returns the byte ranges of the device role that flips and
// scribbles changed and that no erase through the injector has erased
// since, sorted by offset. A program does not end a change: it can only
// clear bits, so the damage stays.
func (in *Injector) Corrupted(role Role) []Span {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.corrupted[role])
}

// side runs an action that lets the operation proceed.
func (in *Injector) side(op Op, a Action) {
	switch a := a.(type) {
	case Cancel:
		in.cancelWork()
	case Fade:
		in.fade(a)
	case Delay:
		if in.options.Clock == nil {
			in.harnessErr(errors.New("delay: the injector has no clock (set Options.Clock)"))
			return
		}
		in.options.Clock.Advance(a.Duration)
	case Flip:
		dev := in.devices[a.Role]
		lo, hi, ok := in.clip(dev, a.Lo, a.Hi)
		if !ok {
			return
		}
		r := in.rng(op, 0xf11b)
		bits := (hi - lo) * 8
		seen := make(map[int64]bool, a.Bits)
		for i := 0; i < a.Bits && int64(len(seen)) < bits; i++ {
			bit := r.Int64N(bits)
			for seen[bit] {
				bit = (bit + 1) % bits
			}
			seen[bit] = true
			var b [1]byte
			if _, err := dev.wrapped.ReadAt(b[:], lo+bit/8); err != nil {
				in.harnessErr(fmt.Errorf("flip: %w", err))
				return
			}
			b[0] ^= 1 << (bit % 8)
			if !in.poke(dev, lo+bit/8, b[:]) {
				return
			}
			in.taint(a.Role, lo+bit/8, 1, op.Index)
		}
	case Copy:
		in.copyDevice(op, a)
	case Misdirect:
		in.misdirect(op, a)
	case Scribble:
		dev := in.devices[a.Role]
		lo, hi, ok := in.clip(dev, a.Lo, a.Hi)
		if !ok {
			return
		}
		r := in.rng(op, 0x5c1b)
		buf := make([]byte, hi-lo)
		for i := range buf {
			buf[i] = byte(r.Uint32())
		}
		old := make([]byte, hi-lo)
		if _, err := dev.wrapped.ReadAt(old, lo); err != nil {
			in.harnessErr(fmt.Errorf("scribble: %w", err))
			return
		}
		if !in.poke(dev, lo, buf) {
			return
		}
		in.taintChanges(a.Role, lo, old, buf, op.Index)
	}
}

// clip limits [lo, hi) to the device; false if the device is missing or the
// range lies outside it.
func (in *Injector) clip(dev *Flash, lo, hi int64) (int64, int64, bool) {
	if dev == nil {
		in.harnessErr(errors.New("corruption of a device that is not wrapped"))
		return 0, 0, false
	}
	hi = min(hi, dev.geometry.Size)
	return lo, hi, lo < hi
}

func (in *Injector) poke(dev *Flash, off int64, p []byte) bool {
	pk, ok := ability[Poker](dev.wrapped)
	if !ok {
		in.harnessErr(fmt.Errorf("%s cannot be poked: flips and scribbles need a simulated flash", dev.geometry.Name))
		return false
	}
	pk.Poke(off, p)
	return true
}

// taint records that n bytes at off of role changed before operation at.
// Spans stay sorted and disjoint; where a new change overlaps an older one,
// the older one's operation stands.
func (in *Injector) taint(role Role, off, n int64, at int64) {
	if in.corrupted == nil {
		in.corrupted = map[Role][]Span{}
	}
	spans := in.corrupted[role]
	lo, hi := off, off+n
	var out []Span
	merged := Span{Off: lo, Len: n, At: at}
	for _, s := range spans {
		if s.Off+s.Len < lo || s.Off > hi {
			out = append(out, s)
			continue
		}
		end := max(merged.Off+merged.Len, s.Off+s.Len)
		merged.Off = min(merged.Off, s.Off)
		merged.Len = end - merged.Off
		merged.At = min(merged.At, s.At)
	}
	out = append(out, merged)
	slices.SortFunc(out, func(a, b Span) int { return int(a.Off - b.Off) })
	in.corrupted[role] = out
}

// corruptedRead returns the earliest operation whose change a read of n
// bytes at off of role sees, and whether it sees one.
func (in *Injector) corruptedRead(role Role, off, n int64) (int64, bool) {
	at, hit := int64(0), false
	for _, s := range in.corrupted[role] {
		if s.Off < off+n && s.Off+s.Len > off {
			if !hit || s.At < at {
				at = s.At
			}
			hit = true
		}
	}
	return at, hit
}

// untaint forgets the changes in [off, off+n) of role (an erase).
func (in *Injector) untaint(role Role, off, n int64) {
	spans := in.corrupted[role]
	if len(spans) == 0 {
		return
	}
	var keep []Span
	for _, s := range spans {
		end := s.Off + s.Len
		if end <= off || s.Off >= off+n {
			keep = append(keep, s)
			continue
		}
		if s.Off < off {
			keep = append(keep, Span{Off: s.Off, Len: off - s.Off, At: s.At})
		}
		if end > off+n {
			keep = append(keep, Span{Off: off + n, Len: end - off - n, At: s.At})
		}
	}
	in.corrupted[role] = keep
}

// copyDevice does a Copy before op: the bytes of To that change are
// recorded as corrupted, as a scribble's.
func (in *Injector) copyDevice(op Op, a Copy) {
	from, to := in.devices[a.From], in.devices[a.To]
	if from == nil || to == nil {
		in.harnessErr(errors.New("copy between devices that are not both wrapped"))
		return
	}
	n := min(from.geometry.Size, to.geometry.Size)
	src, old := make([]byte, n), make([]byte, n)
	if _, err := from.wrapped.ReadAt(src, 0); err != nil {
		in.harnessErr(fmt.Errorf("copy: %w", err))
		return
	}
	if _, err := to.wrapped.ReadAt(old, 0); err != nil {
		in.harnessErr(fmt.Errorf("copy: %w", err))
		return
	}
	if !in.poke(to, 0, src) {
		return
	}
	in.taintChanges(a.To, 0, old, src, op.Index)
}

// misdirect writes a.Len bytes of a.Role at a.From over those at a.To.
func (in *Injector) misdirect(op Op, a Misdirect) {
	dev := in.devices[a.Role]
	lo, hi, ok := in.clip(dev, a.From, a.From+a.Len)
	if !ok {
		return
	}
	to, toHi, ok := in.clip(dev, a.To, a.To+hi-lo)
	if !ok {
		return
	}
	src, old := make([]byte, toHi-to), make([]byte, toHi-to)
	if _, err := dev.wrapped.ReadAt(src, lo); err != nil {
		in.harnessErr(fmt.Errorf("misdirect: %w", err))
		return
	}
	if _, err := dev.wrapped.ReadAt(old, to); err != nil {
		in.harnessErr(fmt.Errorf("misdirect: %w", err))
		return
	}
	if !in.poke(dev, to, src) {
		return
	}
	in.taintChanges(a.Role, to, old, src, op.Index)
}

// taintChanges records as corrupted the bytes at off of role where now
// differs from old.
func (in *Injector) taintChanges(role Role, off int64, old, now []byte, at int64) {
	for i := 0; i < len(now); {
		if now[i] == old[i] {
			i++
			continue
		}
		j := i
		for j < len(now) && now[j] != old[j] {
			j++
		}
		in.taint(role, off+int64(i), int64(j-i), at)
		i = j
	}
}
