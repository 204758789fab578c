// Package simtest builds the simulated chips that tests across the module
// start from: a chip of a named part, a pair on one virtual clock, and the
// clock itself at a fixed epoch. Each helper fails the test (require) on an
// error, so a test reads as what it sets up, not how.
package simtest

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sim"
)

// Epoch is the virtual time the tests' clocks start at.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// NewClock returns a virtual clock at Epoch.
func NewClock() *sim.Clock { return sim.NewClock(Epoch) }

// Part returns the catalogue part of that name (sim.LookupPart).
func Part(t testing.TB, name string) sim.Part {
	t.Helper()
	p, err := sim.LookupPart(name)
	require.NoError(t, err)
	return p
}

// Chip returns a blank simulated chip of the named part; o says the rest
// (its Part is set from part).
func Chip(t testing.TB, part string, o sim.Options) *sim.Flash {
	t.Helper()
	o.Part = Part(t, part)
	f, err := sim.New(o)
	require.NoError(t, err)
	return f
}

// Pair returns two blank chips of the named part made from o: named
// o.Name+"0" and o.Name+"1" ("flash0" and "flash1" when o.Name is empty),
// seeded o.Seed and o.Seed+1 (both 0 when o.Seed is 0). Give o.Clock to
// put them on one clock.
func Pair(t testing.TB, part string, o sim.Options) (a, b *sim.Flash) {
	t.Helper()
	name := o.Name
	if name == "" {
		name = "flash"
	}
	var chips [2]*sim.Flash
	for i := range chips {
		c := o
		c.Name = name + strconv.Itoa(i)
		if o.Seed != 0 {
			c.Seed = o.Seed + uint64(i)
		}
		chips[i] = Chip(t, part, c)
	}
	return chips[0], chips[1]
}
