package reference

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// errShort is a record body that ends before its fields do.
var errShort = errors.New("body too short")

// fields reads the little-endian fields of a record body from the front
// (docs/FORMAT.md, 4.2 "Common encodings"). The first read past the end
// sets err; reads after it return zero values, so a decoder checks err
// once at the end.
type fields struct {
	buf []byte
	err error
}

func (f *fields) take(n int) []byte {
	if f.err != nil {
		return nil
	}
	if n < 0 || n > len(f.buf) {
		f.err = errShort
		return nil
	}
	p := f.buf[:n]
	f.buf = f.buf[n:]
	return p
}

func (f *fields) u8() uint8 {
	if p := f.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (f *fields) u16() uint16 {
	if p := f.take(2); p != nil {
		return binary.LittleEndian.Uint16(p)
	}
	return 0
}

func (f *fields) u32() uint32 {
	if p := f.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (f *fields) u64() uint64 {
	if p := f.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (f *fields) i64() int64 { return int64(f.u64()) }

// time reads a `time`: i64 nanoseconds since the Unix epoch, 0 = unset
// (the zero time.Time).
func (f *fields) time() time.Time {
	ns := f.i64()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// str reads a `str`: u8 length L, then L bytes.
func (f *fields) str() string { return string(f.take(int(f.u8()))) }

func (f *fields) digest() (d Digest) {
	copy(d[:], f.take(len(d)))
	return d
}

// flag reads a u8 that must be 0 or 1.
func (f *fields) flag(what string) bool {
	v := f.u8()
	if v > 1 && f.err == nil {
		f.err = fmt.Errorf("%s is %d, want 0 or 1", what, v)
	}
	return v == 1
}

// fail records a semantic error unless a read error came first.
func (f *fields) fail(format string, args ...any) {
	if f.err == nil {
		f.err = fmt.Errorf(format, args...)
	}
}

// end returns the first error, or an error if bytes are left over: a body
// is exactly its fields.
func (f *fields) end() error {
	if f.err == nil && len(f.buf) != 0 {
		return fmt.Errorf("%d bytes after the last field", len(f.buf))
	}
	return f.err
}

// Information types a store may hold (docs/FORMAT.md, 3: "1 power, 2 fan,
// 3 node, 4 event-log, 5 fault-log, 6 asset").
const (
	minType = 1
	maxType = 6
)

// Config flag bits (docs/FORMAT.md, 4.2 `config`).
const (
	flagVerify      = 1 << 0
	flagRetryAtOnce = 1 << 1
)

// config reads a `config`: u8 t, t × u8 type, i64 interval ns, i64
// threshold ns, u8 flags, u16 group size.
func (f *fields) config() Config {
	var c Config
	n := int(f.u8())
	types := f.take(n)
	seen := [maxType + 1]bool{}
	for _, t := range types {
		if t < minType || t > maxType {
			f.fail("config names type %d, want %d..%d", t, minType, maxType)
			break
		}
		if seen[t] {
			f.fail("config names type %d twice", t)
			break
		}
		seen[t] = true
	}
	c.Types = append([]uint8{}, types...)
	c.Interval = time.Duration(f.i64())
	c.Threshold = time.Duration(f.i64())
	flags := f.u8()
	if flags&^(flagVerify|flagRetryAtOnce) != 0 {
		f.fail("config flags %#x set undefined bits", flags)
	}
	c.Verify = flags&flagVerify != 0
	c.RetryAtOnce = flags&flagRetryAtOnce != 0
	c.GroupSize = f.u16()
	return c
}

// role reads a `role`: u64 epoch, u8 active chip id, u8 restore pending.
func (f *fields) role() Role {
	var r Role
	r.Epoch = f.u64()
	r.Active = f.u8()
	if r.Active > 1 {
		f.fail("active chip id %d, want 0 or 1", r.Active)
	}
	r.RestorePending = f.flag("restore pending")
	return r
}

// Upgrade choices (docs/FORMAT.md, 4.2 `state head`).
const maxUpgradeChoice = 2

// head reads a `state head`: u64 generation, time committed, time next
// sync, config, str image version, u8 upgrade choice, u16 group next, role.
func (f *fields) head() Head {
	var h Head
	h.Generation = f.u64()
	h.Committed = f.time()
	h.NextSync = f.time()
	h.Config = f.config()
	h.ImageVersion = f.str()
	h.UpgradeChoice = f.u8()
	if h.UpgradeChoice > maxUpgradeChoice {
		f.fail("upgrade choice %d, want 0..%d", h.UpgradeChoice, maxUpgradeChoice)
	}
	h.GroupNext = f.u16()
	h.Role = f.role()
	return h
}

// typeMeta reads a `type meta` (57 bytes): u8 type, u32 phase, i64 payload
// size, u64 primary record seq, 32 bytes payload digest, u32 chunk count.
func (f *fields) typeMeta() TypeMeta {
	var m TypeMeta
	m.Type = f.u8()
	m.Phase = f.u32()
	m.Size = f.i64()
	m.Seq = f.u64()
	m.Digest = f.digest()
	m.ChunkCount = f.u32()
	return m
}

// typeMetas reads `u8 t, t × type meta`; each type at most once.
func (f *fields) typeMetas() []TypeMeta {
	n := int(f.u8())
	metas := make([]TypeMeta, 0, n)
	for range n {
		m := f.typeMeta()
		if f.err != nil {
			return nil
		}
		for _, o := range metas {
			if o.Type == m.Type {
				f.fail("type %d has two metadata entries", m.Type)
				return nil
			}
		}
		metas = append(metas, m)
	}
	return metas
}

// chunkEntry reads the 44 bytes of a checkpoint chunk: u32 data block, u64
// chunk check, 32 bytes chunk digest.
func (f *fields) chunkEntry() Chunk {
	return Chunk{Block: f.u32(), Check: f.u64(), Digest: f.digest()}
}
