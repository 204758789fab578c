// The committed generation as the store keeps it (State, its types,
// configuration and role) and the encoding of its parts in record bodies.

package store

import (
	"slices"
	"time"
)

// Config is the sync configuration as the store keeps it with each
// generation. Types holds information type numbers (sync/info.Type values).
type Config struct {
	Types       []uint8
	Interval    time.Duration
	Threshold   time.Duration
	Verify      bool
	GroupSize   int
	RetryAtOnce bool
}

// Equal reports whether c and o are the same configuration.
func (c Config) Equal(o Config) bool {
	return slices.Equal(c.Types, o.Types) && c.Interval == o.Interval && c.Threshold == o.Threshold &&
		c.Verify == o.Verify && c.GroupSize == o.GroupSize && c.RetryAtOnce == o.RetryAtOnce
}

func (c Config) clone() Config {
	c.Types = slices.Clone(c.Types)
	return c
}

// maxTypes bounds decoded lists of types (there are six; room to grow).
const maxTypes = 32

func (e *enc) config(c Config) {
	n := min(len(c.Types), maxTypes)
	e.u8(uint8(n))
	for _, t := range c.Types[:n] {
		e.u8(t)
	}
	e.i64(int64(c.Interval))
	e.i64(int64(c.Threshold))
	var fl uint8
	if c.Verify {
		fl |= 1
	}
	if c.RetryAtOnce {
		fl |= 2
	}
	e.u8(fl)
	e.u16(uint16(min(max(c.GroupSize, 0), 0xFFFF)))
}

func (d *dec) config() Config {
	var c Config
	n := int(d.u8())
	if n > maxTypes {
		d.bad = true
		return c
	}
	if n > 0 {
		c.Types = slices.Clone(d.take(n))
	}
	c.Interval = time.Duration(d.i64())
	c.Threshold = time.Duration(d.i64())
	fl := d.u8()
	c.Verify = fl&1 != 0
	c.RetryAtOnce = fl&2 != 0
	c.GroupSize = int(d.u16())
	return c
}

// Role says which chip is the active (running, primary) one. Roles are
// logical: Active is a chip id from the superblocks (0 or 1), and Epoch
// grows by one at every failover, so of two stores the one with the higher
// epoch knows the current role.
type Role struct {
	Epoch  uint64
	Active uint8
	// RestorePending: after the failover that set this role, the new active
	// chip's information region has not yet been restored from its store.
	RestorePending bool
}

func (e *enc) role(r Role) {
	e.u64(r.Epoch)
	e.u8(r.Active)
	if r.RestorePending {
		e.u8(1)
	} else {
		e.u8(0)
	}
}

func (d *dec) role() Role {
	return Role{Epoch: d.u64(), Active: d.u8(), RestorePending: d.u8() != 0}
}

// TypeState is one information type in a generation: its payload's size,
// phase (where the payload starts within the primary's erase block, which
// fixes the chunk boundaries), the primary record's sequence number it was
// taken from, the payload digest and the chunk map.
type TypeState struct {
	Type   uint8
	Phase  uint32
	Size   int64
	Seq    uint64
	Digest Digest
	Chunks []Chunk
}

func (t TypeState) clone() TypeState {
	t.Chunks = slices.Clone(t.Chunks)
	return t
}

// Upgrade choices stored with a generation.
const (
	ChoiceNone            uint8 = 0 // no image upgrade decided with this generation
	ChoiceKeepUpgraded    uint8 = 1
	ChoiceRestoreDefaults uint8 = 2
)

// State is a committed generation: what the backup holds, the configuration
// committed with it, the schedule and the role.
type State struct {
	Generation uint64
	Time       time.Time // when the round that committed it ended
	NextSync   time.Time
	Config     Config
	// ImageVersion is the primary's firmware image version the generation
	// was taken from; UpgradeChoice the upgrade decision stored with it.
	ImageVersion  string
	UpgradeChoice uint8
	// GroupNext is the index into Config.Types where the next round's group
	// starts (round-robin polling).
	GroupNext uint16
	Role      Role
	Types     []TypeState // sorted by Type
}

// Clone returns a deep copy of s.
func (s State) Clone() State {
	s.Config = s.Config.clone()
	s.Types = slices.Clone(s.Types)
	for i := range s.Types {
		s.Types[i] = s.Types[i].clone()
	}
	return s
}

// Type returns the state of type t and true, or false if the generation
// holds no data for t.
func (s *State) Type(t uint8) (*TypeState, bool) {
	for i := range s.Types {
		if s.Types[i].Type == t {
			return &s.Types[i], true
		}
	}
	return nil, false
}

// typeMeta is a TypeState without its chunk map, as intent heads and
// checkpoints encode it.
func (e *enc) typeMeta(t *TypeState, nchunks int) {
	e.u8(t.Type)
	e.u32(t.Phase)
	e.i64(t.Size)
	e.u64(t.Seq)
	e.raw(t.Digest[:])
	e.u32(uint32(nchunks))
}

func (d *dec) typeMeta() (TypeState, int) {
	var t TypeState
	t.Type = d.u8()
	t.Phase = d.u32()
	t.Size = d.i64()
	t.Seq = d.u64()
	t.Digest = d.digest()
	n := d.u32()
	if t.Size < 0 || n > 1<<26 {
		d.bad = true
		return t, 0
	}
	return t, int(n)
}

// stateHead encodes everything of a State but the chunk maps (a checkpoint
// begin record).
func (e *enc) stateHead(s *State) {
	e.u64(s.Generation)
	e.time(s.Time)
	e.time(s.NextSync)
	e.config(s.Config)
	e.str(s.ImageVersion)
	e.u8(s.UpgradeChoice)
	e.u16(s.GroupNext)
	e.role(s.Role)
}

func (d *dec) stateHead() State {
	var s State
	s.Generation = d.u64()
	s.Time = d.time()
	s.NextSync = d.time()
	s.Config = d.config()
	s.ImageVersion = d.str()
	s.UpgradeChoice = d.u8()
	s.GroupNext = d.u16()
	s.Role = d.role()
	return s
}
