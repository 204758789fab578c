package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// Config is the sync configuration a user chooses on the selection page.
type Config struct {
	Types       TypeList      `json:"types"`         // chosen types, in polling order
	Interval    time.Duration `json:"interval"`      // between rounds
	Threshold   time.Duration `json:"threshold"`     // response-time threshold for failover
	Verify      bool          `json:"verify"`        // read back what was written
	GroupSize   int           `json:"group_size"`    // types per round, round-robin; 0 = all chosen every round
	RetryAtOnce bool          `json:"retry_at_once"` // after a purged round whose primary recovered in time: retry now
}

// Limits of Config fields.
const (
	MinInterval  = 100 * time.Millisecond
	MaxInterval  = 31 * 24 * time.Hour
	MinThreshold = time.Millisecond
	MaxThreshold = time.Hour
)

// DefaultConfig returns the configuration of a new store: every type, a
// round every 5 minutes, a 2 s response-time threshold, no read-back
// verify, no groups.
func DefaultConfig() Config {
	return Config{Types: info.All(), Interval: 5 * time.Minute, Threshold: 2 * time.Second}
}

// ErrConfig marks an invalid configuration.
var ErrConfig = errors.New("invalid sync configuration")

// Validate reports the first problem with c, wrapping ErrConfig.
func (c Config) Validate() error {
	if len(c.Types) == 0 {
		return fmt.Errorf("%w: no information type chosen (choose at least one of %s)", ErrConfig, info.FormatList(info.All()))
	}
	seen := map[info.Type]bool{}
	for _, t := range c.Types {
		if !t.Valid() {
			return fmt.Errorf("%w: unknown information type %d", ErrConfig, uint8(t))
		}
		if seen[t] {
			return fmt.Errorf("%w: type %v chosen twice", ErrConfig, t)
		}
		seen[t] = true
	}
	switch {
	case c.Interval < MinInterval || c.Interval > MaxInterval:
		return fmt.Errorf("%w: interval %v out of range [%v, %v]", ErrConfig, c.Interval, MinInterval, MaxInterval)
	case c.Threshold < MinThreshold || c.Threshold > MaxThreshold:
		return fmt.Errorf("%w: threshold %v out of range [%v, %v]", ErrConfig, c.Threshold, MinThreshold, MaxThreshold)
	case c.GroupSize < 0 || c.GroupSize > len(c.Types):
		return fmt.Errorf("%w: group size %d out of range [0, %d] (0 syncs every chosen type each round)", ErrConfig, c.GroupSize, len(c.Types))
	}
	return nil
}

// Equal reports whether c and o are the same configuration.
func (c Config) Equal(o Config) bool {
	return slices.Equal(c.Types, o.Types) && c.Interval == o.Interval && c.Threshold == o.Threshold &&
		c.Verify == o.Verify && c.GroupSize == o.GroupSize && c.RetryAtOnce == o.RetryAtOnce
}

// Clone returns a copy of c that shares nothing with it.
func (c Config) Clone() Config {
	c.Types = slices.Clone(c.Types)
	return c
}

func toStoreConfig(c Config) store.Config {
	sc := store.Config{Interval: c.Interval, Threshold: c.Threshold, Verify: c.Verify, GroupSize: c.GroupSize, RetryAtOnce: c.RetryAtOnce}
	for _, t := range c.Types {
		sc.Types = append(sc.Types, uint8(t))
	}
	return sc
}

// FromStoreConfig converts a configuration decoded from a store.
func FromStoreConfig(sc store.Config) Config {
	c := Config{Interval: sc.Interval, Threshold: sc.Threshold, Verify: sc.Verify, GroupSize: sc.GroupSize, RetryAtOnce: sc.RetryAtOnce}
	for _, t := range sc.Types {
		c.Types = append(c.Types, info.Type(t))
	}
	return c
}

// Layout places the firmware image, the primary information region and the
// backup store on a chip; both chips of a pair use the same layout. All
// fields are erase-block aligned.
type Layout struct {
	ImageOff, ImageSize int64
	InfoOff, InfoSize   int64
	StoreOff, StoreSize int64
}

// DefaultLayout lays out a chip of geometry g: the image at 0 (1/16 of the
// chip, at most 1 MiB), then the information region of infoSize bytes (0:
// a quarter of the chip, at most 8 MiB), then the store in the rest.
func DefaultLayout(g hal.Geometry, infoSize int64) (Layout, error) {
	if err := g.Validate(); err != nil {
		return Layout{}, err
	}
	e := g.EraseSize
	img := min(g.Size/16, 1<<20) / e * e
	img = max(img, e)
	if infoSize == 0 {
		infoSize = min(g.Size/4, 8<<20) / e * e
	}
	l := Layout{ImageOff: 0, ImageSize: img, InfoOff: img, InfoSize: infoSize, StoreOff: img + infoSize}
	l.StoreSize = g.Size - l.StoreOff
	if err := l.Check(g); err != nil {
		return Layout{}, err
	}
	return l, nil
}

// maxChunks is how many chunks an information region of size bytes can
// produce: a block each, plus a partial one per type.
func (l Layout) maxChunks(e int64) int { return int(l.InfoSize/e) + info.NumTypes }

// Check reports whether l fits g: aligned, in order, not overlapping, an
// information region the info package can lay out, and a store big enough
// for twice the region.
func (l Layout) Check(g hal.Geometry) error {
	e := g.EraseSize
	for _, v := range []int64{l.ImageOff, l.ImageSize, l.InfoOff, l.InfoSize, l.StoreOff, l.StoreSize} {
		if v < 0 || e <= 0 || v%e != 0 {
			return fmt.Errorf("layout %+v: fields must be non-negative multiples of the erase size %d", l, e)
		}
	}
	switch {
	case l.ImageOff != 0:
		return fmt.Errorf("layout: the image must start at offset 0 (its header is the health probe)")
	case l.ImageSize < e || l.InfoOff < l.ImageOff+l.ImageSize || l.StoreOff < l.InfoOff+l.InfoSize:
		return fmt.Errorf("layout %+v: image, information region and store must be in that order without overlap", l)
	case l.StoreOff+l.StoreSize > g.Size || l.InfoSize == 0 || l.StoreSize == 0:
		return fmt.Errorf("layout %+v does not fit %s (%s)", l, g.Name, hal.FormatSize(g.Size))
	}
	if _, err := info.PlanRegion(l.InfoSize, e); err != nil {
		return fmt.Errorf("layout: information region: %w", err)
	}
	if _, err := store.PlanLayout(g, l.StoreSize, store.FormatOptions{MaxChunks: l.maxChunks(e)}); err != nil {
		return fmt.Errorf("layout: %w", err)
	}
	return nil
}

// TypeList is a list of information types that encodes to JSON as names
// ("power", "fan", ...). A []info.Type assigns to it directly.
type TypeList []info.Type

// MarshalJSON encodes the list as an array of type names.
func (l TypeList) MarshalJSON() ([]byte, error) {
	names := make([]string, len(l))
	for i, t := range l {
		names[i] = t.String()
	}
	return json.Marshal(names)
}

// UnmarshalJSON decodes an array of type names (or numbers).
func (l *TypeList) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("information types: %w", err)
	}
	out := make(TypeList, 0, len(raw))
	for _, r := range raw {
		var name string
		if err := json.Unmarshal(r, &name); err == nil {
			t, err := info.ParseType(name)
			if err != nil {
				return err
			}
			out = append(out, t)
			continue
		}
		var n uint8
		if err := json.Unmarshal(r, &n); err != nil {
			return fmt.Errorf("information type %s: want a name or a number", r)
		}
		out = append(out, info.Type(n))
	}
	*l = out
	return nil
}
