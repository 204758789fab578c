package store

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
)

// chipImage reads the whole of f.
func chipImage(t *testing.T, f hal.Flash) []byte {
	t.Helper()
	b := make([]byte, f.Geometry().Size)
	_, err := f.ReadAt(b, 0)
	require.NoError(t, err)
	return b
}

// TestConfigValidateRefusesWhatOpenWouldRefuse: a configuration the
// decoder would refuse (a type outside 1..6 or named twice, too many
// types) or that the encoder could not keep as given (a negative duration,
// a group size past 16 bits) is refused by Format, StageConfig and
// CommitConfig with ErrInvalidConfig, before anything is written: the chip
// is byte for byte what it was.
func TestConfigValidateRefusesWhatOpenWouldRefuse(t *testing.T) {
	good := Config{Types: []uint8{1, 2}, Interval: time.Minute, Threshold: time.Second}
	tooMany := make([]uint8, maxTypes+1)
	for i := range tooMany {
		tooMany[i] = uint8(i%6 + 1)
	}
	tests := []struct {
		name string
		edit func(*Config)
	}{
		{"type 7", func(c *Config) { c.Types = []uint8{1, 7} }},
		{"type 0", func(c *Config) { c.Types = []uint8{0} }},
		{"type twice", func(c *Config) { c.Types = []uint8{3, 3} }},
		{"too many types", func(c *Config) { c.Types = tooMany }},
		{"negative interval", func(c *Config) { c.Interval = -time.Second }},
		{"negative threshold", func(c *Config) { c.Threshold = -1 }},
		{"group size past 16 bits", func(c *Config) { c.GroupSize = 0x10000 }},
		{"negative group size", func(c *Config) { c.GroupSize = -1 }},
	}
	require.NoError(t, good.Validate())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := good.clone()
			tt.edit(&bad)
			require.ErrorIs(t, bad.Validate(), ErrInvalidConfig)

			blank := newChip(t)
			before := chipImage(t, blank)
			err := Format(blank, testStoreOff, testStoreSize, FormatOptions{
				ChipID: 1, PairID: 42, Time: time.Unix(1000, 0), MaxChunks: testMaxChunks, Config: bad,
			})
			require.ErrorIs(t, err, ErrInvalidConfig)
			require.True(t, bytes.Equal(before, chipImage(t, blank)), "format wrote to the chip")

			f, s := newStore(t)
			img := chipImage(t, f)
			require.ErrorIs(t, s.StageConfig(bad), ErrInvalidConfig)
			_, err = s.CommitConfig(bad)
			require.ErrorIs(t, err, ErrInvalidConfig)
			require.True(t, bytes.Equal(img, chipImage(t, f)), "a refused config reached the chip")
			require.True(t, good.Equal(openTest(t, f, Options{ReadOnly: true}).State().Config))
		})
	}
}

// TestConfigAtItsLimitsIsKept: the largest group size the record holds
// (65535) and the six types are accepted, kept and read back as given,
// by a store formatted at offset 0 of its chip.
func TestConfigAtItsLimitsIsKept(t *testing.T) {
	c := Config{Types: []uint8{1, 2, 3, 4, 5, 6}, Interval: time.Hour, Threshold: 0, GroupSize: 0xFFFF, Verify: true}
	require.NoError(t, c.Validate())
	f := newChip(t)
	require.NoError(t, Format(f, 0, testStoreSize, FormatOptions{
		ChipID: 1, PairID: 42, Time: time.Unix(1000, 0), MaxChunks: testMaxChunks, Config: c,
	}))
	s, err := Open(f, 0, testStoreSize, Options{})
	require.NoError(t, err)
	require.True(t, c.Equal(s.State().Config), "%+v", s.State().Config)
	c.GroupSize = 1
	require.NoError(t, s.StageConfig(c))
	_, err = s.CommitConfig(c)
	require.NoError(t, err)
	s2, err := Open(f, 0, testStoreSize, Options{ReadOnly: true})
	require.NoError(t, err)
	require.True(t, c.Equal(s2.State().Config))
}
