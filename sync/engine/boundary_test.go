package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
)

// TestConfigValidateBounds: the range limits are inclusive (a value equal
// to a limit is valid, one step past it is not), and the message names
// the value and the range.
func TestConfigValidateBounds(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string // "" for valid
	}{
		{"interval at min", func(c *Config) { c.Interval = MinInterval }, ""},
		{"interval below min", func(c *Config) { c.Interval = MinInterval - 1 }, "interval 99.999999ms out of range [100ms, 744h0m0s]"},
		{"interval at max", func(c *Config) { c.Interval = MaxInterval }, ""},
		{"interval above max", func(c *Config) { c.Interval = MaxInterval + 1 }, "interval 744h0m0.000000001s out of range"},
		{"threshold at min", func(c *Config) { c.Threshold = MinThreshold }, ""},
		{"threshold below min", func(c *Config) { c.Threshold = MinThreshold - 1 }, "threshold 999.999µs out of range [1ms, 1h0m0s]"},
		{"threshold at max", func(c *Config) { c.Threshold = MaxThreshold }, ""},
		{"threshold above max", func(c *Config) { c.Threshold = MaxThreshold + 1 }, "threshold 1h0m0.000000001s out of range"},
		{"group 0", func(c *Config) { c.GroupSize = 0 }, ""},
		{"group -1", func(c *Config) { c.GroupSize = -1 }, "group size -1 out of range [0, 6]"},
		{"group of all", func(c *Config) { c.GroupSize = info.NumTypes }, ""},
		{"group past all", func(c *Config) { c.GroupSize = info.NumTypes + 1 }, "group size 7 out of range [0, 6]"},
		{"group of all of two", func(c *Config) { c.Types = TypeList{info.Fan, info.Node}; c.GroupSize = 2 }, ""},
		{"group past two", func(c *Config) { c.Types = TypeList{info.Fan, info.Node}; c.GroupSize = 3 }, "group size 3 out of range [0, 2]"},
		{"type 0", func(c *Config) { c.Types = TypeList{info.Type(0)} }, "unknown information type 0"},
		{"type past last", func(c *Config) { c.Types = TypeList{info.Type(info.NumTypes + 1)} }, "unknown information type 7"},
		{"last type", func(c *Config) { c.Types = TypeList{info.Type(info.NumTypes)} }, ""},
		{"twice", func(c *Config) { c.Types = TypeList{info.Node, info.Fan, info.Node} }, "type node chosen twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrConfig)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// TestConfigEqualEachField: Equal compares every field; a change of any
// one makes it false.
func TestConfigEqualEachField(t *testing.T) {
	base := DefaultConfig()
	require.True(t, base.Equal(base.Clone()))
	for name, mod := range map[string]func(*Config){
		"types":     func(c *Config) { c.Types = c.Types[1:] },
		"order":     func(c *Config) { c.Types[0], c.Types[1] = c.Types[1], c.Types[0] },
		"interval":  func(c *Config) { c.Interval++ },
		"threshold": func(c *Config) { c.Threshold++ },
		"verify":    func(c *Config) { c.Verify = !c.Verify },
		"group":     func(c *Config) { c.GroupSize = 2 },
		"retry":     func(c *Config) { c.RetryAtOnce = !c.RetryAtOnce },
	} {
		c := base.Clone()
		mod(&c)
		require.False(t, base.Equal(c), name)
		require.False(t, c.Equal(base), name)
		require.True(t, c.Equal(FromStoreConfig(toStoreConfig(c))), "%s: a store round trip keeps it", name)
	}
}

// TestGroupRoundRobin: group takes GroupSize types from index next on,
// wrapping; 0 (or all) takes every type; no types, none.
func TestGroupRoundRobin(t *testing.T) {
	all := info.All()
	for _, tc := range []struct {
		size int
		next uint16
		want []info.Type
	}{
		{0, 3, all},
		{info.NumTypes, 2, all},
		{1, 0, all[:1]},
		{2, 2, all[2:4]},
		{2, 5, []info.Type{all[5], all[0]}},
		{3, 4, []info.Type{all[4], all[5], all[0]}},
		{2, 8, all[2:4]},
	} {
		t.Run(fmt.Sprintf("%d from %d", tc.size, tc.next), func(t *testing.T) {
			c := DefaultConfig()
			c.GroupSize = tc.size
			require.Equal(t, tc.want, group(c, tc.next))
		})
	}
	require.Nil(t, group(Config{GroupSize: 1}, 0))
}

// testGeometry is a plain NOR chip of size bytes with 4 KiB blocks.
func testGeometry(size int64) hal.Geometry {
	return hal.Geometry{Name: "g", Kind: hal.NOR, Size: size, EraseSize: 4 << 10, WriteSize: 1, PageSize: 256}
}

// TestDefaultLayoutExact: the default layout's offsets and sizes, to the
// byte.
func TestDefaultLayoutExact(t *testing.T) {
	for _, tc := range []struct {
		size int64
		want Layout
	}{
		{8 << 20, Layout{ImageOff: 0, ImageSize: 512 << 10, InfoOff: 512 << 10, InfoSize: 2 << 20, StoreOff: 2560 << 10, StoreSize: 5632 << 10}},
		{128 << 20, Layout{ImageOff: 0, ImageSize: 1 << 20, InfoOff: 1 << 20, InfoSize: 8 << 20, StoreOff: 9 << 20, StoreSize: 119 << 20}},
	} {
		l, err := DefaultLayout(testGeometry(tc.size), 0)
		require.NoError(t, err)
		require.Equal(t, tc.want, l)
		l, err = DefaultLayout(testGeometry(tc.size), 1<<20)
		require.NoError(t, err)
		require.Equal(t, tc.want.ImageSize+1<<20, l.StoreOff)
		require.Equal(t, tc.size-tc.want.ImageSize-1<<20, l.StoreSize)
	}
	require.Equal(t, 4+info.NumTypes, Layout{InfoSize: 16 << 10}.maxChunks(4<<10))
}

// TestLayoutCheckBounds: ranges may touch (end of one = start of the
// next, in either order) and may end exactly at the chip's end; one block
// more is an overlap or past the end.
func TestLayoutCheckBounds(t *testing.T) {
	const e = 4 << 10
	g := testGeometry(8 << 20)
	for _, tc := range []struct {
		name string
		l    Layout
		want string // "" for valid
	}{
		{"info then store, touching, to the end", Layout{InfoOff: 0, InfoSize: 1 << 20, StoreOff: 1 << 20, StoreSize: 7 << 20}, ""},
		{"store then info, touching, to the end", Layout{StoreOff: 0, StoreSize: 7 << 20, InfoOff: 7 << 20, InfoSize: 1 << 20}, ""},
		{"info overlaps the store's start", Layout{InfoOff: 0, InfoSize: 1<<20 + e, StoreOff: 1 << 20, StoreSize: 7 << 20}, "information region 0x0+1028KiB overlaps store 0x100000+7MiB"},
		{"store overlaps the info's start", Layout{StoreOff: 0, StoreSize: 7<<20 + e, InfoOff: 7 << 20, InfoSize: 1 << 20}, "information region 0x700000+1MiB overlaps store 0x0"},
		{"store inside info", Layout{InfoOff: 0, InfoSize: 4 << 20, StoreOff: 1 << 20, StoreSize: 1 << 20}, "overlaps"},
		{"store past the end", Layout{InfoOff: 0, InfoSize: 1 << 20, StoreOff: 1 << 20, StoreSize: 7<<20 + e}, "store 0x100000+7172KiB ends past the end of g (8MiB)"},
		{"store one block past the end", Layout{InfoOff: 0, InfoSize: 1 << 20, StoreOff: 8<<20 - e, StoreSize: 2 * e}, "ends past the end"},
		{"image area not at 0", Layout{ImageOff: e, ImageSize: e, InfoOff: 2 * e, InfoSize: 1 << 20, StoreOff: 2 << 20, StoreSize: 6 << 20}, "must start at offset 0"},
		{"empty image area anywhere", Layout{ImageOff: e, ImageSize: 0, InfoOff: 0, InfoSize: 1 << 20, StoreOff: 1 << 20, StoreSize: 7 << 20}, ""},
		{"image area at 0", Layout{ImageOff: 0, ImageSize: e, InfoOff: e, InfoSize: 1 << 20, StoreOff: 2 << 20, StoreSize: 6 << 20}, ""},
		{"empty info", Layout{InfoOff: 0, InfoSize: 0, StoreOff: 0, StoreSize: 8 << 20}, "the information region is empty"},
		{"empty store", Layout{InfoOff: 0, InfoSize: 1 << 20, StoreOff: 1 << 20, StoreSize: 0}, "the store is empty"},
		{"negative offset", Layout{InfoOff: -e, InfoSize: 1 << 20, StoreOff: 1 << 20, StoreSize: 7 << 20}, "information region -0x1000+0x100000: offset and size must be non-negative multiples"},
		{"unaligned size", Layout{InfoOff: 0, InfoSize: 1<<20 + 1, StoreOff: 2 << 20, StoreSize: 6 << 20}, "must be non-negative multiples of the erase size 4KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.l.Check(g)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrLayout)
			require.ErrorContains(t, err, tc.want)
		})
	}
	require.ErrorContains(t, Layout{InfoSize: e, StoreSize: e}.Check(hal.Geometry{Name: "z"}), "z has no erase size")
}

// TestNewLayoutStoreToEnd: a store size of 0 takes the store to the end of
// the chip, from any offset inside it, 0 included.
func TestNewLayoutStoreToEnd(t *testing.T) {
	g := testGeometry(8 << 20)
	l, err := NewLayout(g, 0, 1<<20, 3<<20, 0)
	require.NoError(t, err)
	require.Equal(t, Layout{InfoOff: 0, InfoSize: 1 << 20, StoreOff: 3 << 20, StoreSize: 5 << 20}, l)
	l, err = NewLayout(g, 7<<20, 1<<20, 0, 6<<20)
	require.NoError(t, err)
	require.Equal(t, Layout{InfoOff: 7 << 20, InfoSize: 1 << 20, StoreOff: 0, StoreSize: 6 << 20}, l)
	_, err = NewLayout(g, 7<<20, 1<<20, 0, 0)
	require.ErrorIs(t, err, ErrLayout)
	require.ErrorContains(t, err, "information region 0x700000+1MiB overlaps store 0x0+8MiB", "store from 0 to the end overlaps the region")
	_, err = NewLayout(g, 0, 1<<20, 8<<20, 0)
	require.ErrorContains(t, err, "the store is empty")
	_, err = NewLayout(hal.Geometry{Name: "bad"}, 0, 1<<20, 1<<20, 0)
	require.ErrorIs(t, err, ErrLayout)
}

// TestMutantAndChoiceNames: names round-trip; values past the list print
// their number.
func TestMutantAndChoiceNames(t *testing.T) {
	ms := Mutants()
	require.Equal(t, None, ms[0].Mutant)
	last := ms[len(ms)-1].Mutant
	require.Equal(t, ms[len(ms)-1].Name, last.String())
	require.Equal(t, fmt.Sprintf("mutant(%d)", uint8(last)+1), (last + 1).String())
	m, err := ParseMutant("")
	require.NoError(t, err)
	require.Equal(t, None, m)
	_, err = ParseMutant("nope")
	require.ErrorContains(t, err, `unknown mutant "nope" (want one of none, no-purge,`)

	for _, c := range []UpgradeChoice{NoChoice, KeepUpgraded, RestoreDefaults} {
		b, err := c.MarshalText()
		require.NoError(t, err)
		var d UpgradeChoice = 9
		require.NoError(t, d.UnmarshalText(b))
		require.Equal(t, c, d)
	}
	require.Equal(t, "choice(9)", UpgradeChoice(9).String())
	var d UpgradeChoice
	require.ErrorContains(t, d.UnmarshalText([]byte("keep")), `unknown upgrade choice "keep"`)
}

// stepFlash is a flash whose every read takes the next of its delays on
// its clock, and fails when its error is set.
type stepFlash struct {
	hal.Flash
	clock  interface{ Advance(time.Duration) }
	delays []time.Duration
	fail   error
}

func (f *stepFlash) ReadAt(p []byte, off int64) (int, error) {
	if len(f.delays) > 0 {
		f.clock.Advance(f.delays[0])
		f.delays = f.delays[1:]
	}
	if f.fail != nil {
		return 0, f.fail
	}
	return len(p), nil
}
