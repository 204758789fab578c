// The committed generation as the store keeps it (State, its types,
// configuration and role) and the encoding of its parts in record bodies.

package store

import (
	"fmt"
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

// Validate reports, wrapping ErrInvalidConfig, what in c the store cannot
// keep as given: a type number outside 1..6 or named twice, more than
// maxTypes types, a negative duration, or a group size outside 0..65535.
// Format, StageConfig and CommitConfig refuse such a configuration
// before they write anything, so a store never holds one its own Open
// would refuse.
func (c Config) Validate() error {
	if len(c.Types) > maxTypes {
		return fmt.Errorf("%w: %d types, at most %d", ErrInvalidConfig, len(c.Types), maxTypes)
	}
	if err := checkTypes(c.Types); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	switch {
	case c.Interval < 0:
		return fmt.Errorf("%w: negative interval %v", ErrInvalidConfig, c.Interval)
	case c.Threshold < 0:
		return fmt.Errorf("%w: negative threshold %v", ErrInvalidConfig, c.Threshold)
	case c.GroupSize < 0 || c.GroupSize > 0xFFFF:
		return fmt.Errorf("%w: group size %d, want 0..65535", ErrInvalidConfig, c.GroupSize)
	}
	return nil
}

// checkTypes: every type of a configuration is an information type
// (1..6) and none is named twice. Config.Validate and the decoder of a
// config field (docs/FORMAT.md, 4.2) share it.
func checkTypes(types []uint8) error {
	var seen [maxInfoType + 1]bool
	for _, t := range types {
		if t < minInfoType || t > maxInfoType {
			return fmt.Errorf("type %d, want %d..%d", t, minInfoType, maxInfoType)
		}
		if seen[t] {
			return fmt.Errorf("type %d named twice", t)
		}
		seen[t] = true
	}
	return nil
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
		fl |= flagVerify
	}
	if c.RetryAtOnce {
		fl |= flagRetryAtOnce
	}
	e.u8(fl)
	e.u16(uint16(min(max(c.GroupSize, 0), 0xFFFF)))
}

// Information type numbers a store may hold (sync/info: 1 power, 2 fan,
// 3 node, 4 event-log, 5 fault-log, 6 asset): configurations and type
// metadata naming another number are malformed (docs/FORMAT.md, "Record
// framing").
const (
	minInfoType = 1
	maxInfoType = 6
)

// Config flag bits; the others must be 0.
const (
	flagVerify      = 1 << 0
	flagRetryAtOnce = 1 << 1
)

func (d *dec) config() Config {
	var c Config
	n := int(d.u8())
	if n > maxTypes {
		d.fail("config lists %d types", n)
		return c
	}
	if n > 0 {
		c.Types = slices.Clone(d.take(n))
	}
	if err := checkTypes(c.Types); err != nil {
		d.fail("config: %v", err)
	}
	c.Interval = time.Duration(d.i64())
	c.Threshold = time.Duration(d.i64())
	fl := d.u8()
	if fl&^(flagVerify|flagRetryAtOnce) != 0 {
		d.fail("config flags %#x set undefined bits", fl)
	}
	c.Verify = fl&flagVerify != 0
	c.RetryAtOnce = fl&flagRetryAtOnce != 0
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
	r := Role{Epoch: d.u64(), Active: d.u8()}
	if r.Active > 1 {
		d.fail("active chip id %d, want 0 or 1", r.Active)
	}
	r.RestorePending = d.flag("restore pending")
	return r
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
	switch {
	case t.Type < minInfoType || t.Type > maxInfoType:
		d.fail("metadata of type %d, want %d..%d", t.Type, minInfoType, maxInfoType)
		return t, 0
	case t.Size < 0 || n > 1<<26:
		d.fail("type %d: size %d, %d chunks", t.Type, t.Size, n)
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
	if s.UpgradeChoice > ChoiceRestoreDefaults {
		d.fail("upgrade choice %d, want 0..%d", s.UpgradeChoice, ChoiceRestoreDefaults)
	}
	s.GroupNext = d.u16()
	if s.GroupNext != 0 && int(s.GroupNext) >= len(s.Config.Types) {
		d.fail("group next %d, the configuration has %d types", s.GroupNext, len(s.Config.Types))
	}
	s.Role = d.role()
	return s
}
