package faults

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var roundTripTexts = []string{
	"none",
	"(on (at 0) cut)",
	"(seed 7) (on (and backup program (at 41)) (torn bits unstable))",
	"(seed 18446744073709551615) (on (or read (every 3)) (torn allbutone))",
	"(on (and erase (not primary)) (torn random))",
	"(on (random 0.25 99) (fail media))",
	"(on (and primary read (after 10) (before 20)) (delay 1.5s))",
	"(on (devat 3) (fail timeout))",
	"(on (addr 0x1000 0x2000) bad)",
	"(on (and erase (addr 0x0 0x1000)) wearout)",
	"(seed 1) (on (at 5) (flip primary 0x10000 0x20000 3)) (on (at 9) (scribble backup 0x0 0x1000))",
	"(on always (delay 0s))",
	"(on (and backup erase (at 7)) (silent-erase unchanged)) (on (at 9) (silent-erase partial))",
	"(on (and backup program (after 3)) weak)",
	"(on (at 0) (copy primary backup))",
	"(on (at 0) (misdirect backup 0x1000 0x2040 96))",
	"(on (at 4) cancel) (on (and backup erase (after 4)) (fail media))",
	"(on (at 0) (fade backup 0x1000 0x1040))",
	"(on (and) cut)",
	"(on (or) cut)",
	"(on (random 1e-09 0) cut)",
}

func TestScheduleRoundTrip(t *testing.T) {
	for _, text := range roundTripTexts {
		t.Run(text, func(t *testing.T) {
			s, err := ParseSchedule(text)
			require.NoError(t, err)
			require.Equal(t, text, s.String())
			back, err := ParseSchedule(s.String())
			require.NoError(t, err)
			require.Equal(t, s, back)
		})
	}
}

func TestScheduleValuesPrintAndParse(t *testing.T) {
	cases := []Schedule{
		{},
		CutAt(12),
		TornAt(3, TornAllButOne, true, 42),
		{Seed: 5, Rules: []Rule{
			{When: And{[]Pred{OnRole{Primary}, OnKind{Read}}}, Do: Delay{3 * time.Second}},
			{When: Not{Or{[]Pred{Every{2}, Addr{0, 4096}}}}, Do: Fail{FailMedia}},
			{When: Random{Probability: 0.001, Seed: 3}, Do: GoBad{}},
		}},
	}
	for _, s := range cases {
		back, err := ParseSchedule(s.String())
		require.NoError(t, err, s.String())
		require.Equal(t, s, back)
	}
}

func TestParseScheduleErrors(t *testing.T) {
	cases := map[string]string{
		"(on (at 1))":                        "unknown action \")\" (want cut, bad, wearout, weak, cancel or (torn|flip|scribble|fade|copy|misdirect|silent-erase|delay|fail ...))",
		"(on (and primary reed) cut)":        "unknown predicate \"reed\" (want always, primary, backup, read, program, erase or (at|devat|every|after|before|random|addr|and|or|not ...))",
		"(on (at 1) (frob))":                 "unknown action (frob ...) (want",
		"(on":                                "unexpected end of text (a parenthesis left open?)",
		"(on (at -1) cut)":                   "index must be >= 0",
		"(on (every 0) cut)":                 "at least 1",
		"(on (random 2 1) cut)":              "probability",
		"(on (random x 1) cut)":              "want a probability",
		"(on (addr 0x10 0x10) cut)":          "lo < hi",
		"(on (at 1) (torn half))":            "unknown torn mode",
		"(on (at 1) (flip middle 0 1 1))":    "unknown device role",
		"(on (at 1) (flip primary 0 1 0))":   "want 1 to",
		"(on (at 1) (delay soon))":           "want a duration",
		"(on (at 1) (delay -1s))":            "want 0 to 1000h",
		"(on (at 1) (fail slow))":            "unknown failure",
		"(on (at 1) cut":                     "unexpected end",
		"(on (at 1) cut))":                   "want \"(\"",
		"(on (at 1) cut) (seed 3)":           "must come once, first",
		"(bogus)":                            "unknown form",
		"(on (frob 1) cut)":                  "unknown predicate (frob ...) (want",
		"cut":                                "want \"(\"",
		"(on (at 99999999999999999999) cut)": "want an integer",
	}
	for text, want := range cases {
		t.Run(text, func(t *testing.T) {
			_, err := ParseSchedule(text)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrSyntax), "%v", err)
			require.Contains(t, err.Error(), want)
		})
	}
}

func TestParsePred(t *testing.T) {
	p, err := ParsePred("(and backup (addr 0x0 0x100))")
	require.NoError(t, err)
	require.True(t, p.Match(Op{Role: Backup, Off: 0x80, Len: 1}))
	require.False(t, p.Match(Op{Role: Primary, Off: 0x80, Len: 1}))
	_, err = ParsePred("backup extra")
	require.ErrorIs(t, err, ErrSyntax)
}

func TestPredicates(t *testing.T) {
	op := Op{Index: 5, DevIndex: 2, Role: Backup, Kind: Program, Off: 0x1000, Len: 0x100}
	cases := []struct {
		p    Pred
		want bool
	}{
		{Always{}, true},
		{At{5}, true}, {At{4}, false},
		{DevAt{2}, true}, {DevAt{5}, false},
		{Every{3}, true}, {Every{4}, false}, {Every{1}, true},
		{After{5}, true}, {After{6}, false},
		{Before{6}, true}, {Before{5}, false},
		{Random{Probability: 1, Seed: 1}, true}, {Random{Probability: 0, Seed: 1}, false},
		{Addr{0x10ff, 0x2000}, true}, {Addr{0x1100, 0x2000}, false}, {Addr{0, 0x1000}, false},
		{OnRole{Backup}, true}, {OnRole{Primary}, false},
		{OnKind{Program}, true}, {OnKind{Erase}, false},
		{And{[]Pred{OnRole{Backup}, At{5}}}, true}, {And{[]Pred{OnRole{Backup}, At{4}}}, false}, {And{}, true},
		{Or{[]Pred{OnRole{Primary}, At{5}}}, true}, {Or{}, false},
		{Not{At{5}}, false}, {Not{At{4}}, true},
	}
	for _, c := range cases {
		require.Equal(t, c.want, c.p.Match(op), c.p.String())
	}
}

func TestRandomPredicateRate(t *testing.T) {
	p := Random{Probability: 0.1, Seed: 42}
	hits := 0
	for i := int64(0); i < 100000; i++ {
		if p.Match(Op{Index: i}) {
			hits++
		}
	}
	require.InDelta(t, 10000, hits, 500)
	// Stateless: the same op always gets the same answer.
	for i := int64(0); i < 100; i++ {
		require.Equal(t, p.Match(Op{Index: i}), p.Match(Op{Index: i}))
	}
}
