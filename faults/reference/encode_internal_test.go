package reference

import (
	"encoding/binary"
	"time"
)

// enc writes record bodies and records for the tests, following
// docs/FORMAT.md 4.2 and 4.3 (a test-only writer: the package has none).
type enc struct{ buf []byte }

func (w *enc) u8(v uint8) *enc   { w.buf = append(w.buf, v); return w }
func (w *enc) u16(v uint16) *enc { w.buf = binary.LittleEndian.AppendUint16(w.buf, v); return w }
func (w *enc) u32(v uint32) *enc { w.buf = binary.LittleEndian.AppendUint32(w.buf, v); return w }
func (w *enc) u64(v uint64) *enc { w.buf = binary.LittleEndian.AppendUint64(w.buf, v); return w }
func (w *enc) digest(d Digest) *enc {
	w.buf = append(w.buf, d[:]...)
	return w
}

func (w *enc) time(t time.Time) *enc {
	if t.IsZero() {
		return w.u64(0)
	}
	return w.u64(uint64(t.UnixNano()))
}

func (w *enc) config(c Config) *enc {
	w.u8(uint8(len(c.Types)))
	w.buf = append(w.buf, c.Types...)
	var flags uint8
	if c.Verify {
		flags |= flagVerify
	}
	if c.RetryAtOnce {
		flags |= flagRetryAtOnce
	}
	return w.u64(uint64(c.Interval)).u64(uint64(c.Threshold)).u8(flags).u16(c.GroupSize)
}

func (w *enc) role(r Role) *enc {
	pending := uint8(0)
	if r.RestorePending {
		pending = 1
	}
	return w.u64(r.Epoch).u8(r.Active).u8(pending)
}

func (w *enc) head(h Head) *enc {
	w.u64(h.Generation).time(h.Committed).time(h.NextSync).config(h.Config)
	w.u8(uint8(len(h.ImageVersion)))
	w.buf = append(w.buf, h.ImageVersion...)
	return w.u8(h.UpgradeChoice).u16(h.GroupNext).role(h.Role)
}

func (w *enc) meta(m TypeMeta) *enc {
	return w.u8(m.Type).u32(m.Phase).u64(uint64(m.Size)).u64(m.Seq).digest(m.Digest).u32(m.ChunkCount)
}
