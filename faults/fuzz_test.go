package faults

import (
	"context"
	"testing"
	"time"

	fuzz "github.com/google/gofuzz"
	"github.com/stretchr/testify/require"
)

// FuzzParseSchedule: any text either fails with ErrSyntax or parses to a
// schedule whose printed form parses back equal and prints the same.
func FuzzParseSchedule(f *testing.F) {
	for _, s := range roundTripTexts {
		f.Add(s)
	}
	f.Add("(on (and (or read erase) (not (addr 0x0 0x1000))) (torn random unstable))")
	f.Add("((((")
	f.Fuzz(func(t *testing.T, text string) {
		s, err := ParseSchedule(text)
		if err != nil {
			require.ErrorIs(t, err, ErrSyntax)
			return
		}
		printed := s.String()
		back, err := ParseSchedule(printed)
		require.NoError(t, err, printed)
		require.Equal(t, s, back)
		require.Equal(t, printed, back.String())
	})
}

// FuzzBuildSchedule builds structured schedules from fuzz bytes with gofuzz
// and checks that every valid one prints and parses back equal, and that an
// injector runs it over a pair of fakes without panicking or harness errors.
func FuzzBuildSchedule(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte("power cut at the first erase"))
	f.Add([]byte{7, 1, 3, 200, 45, 9, 9, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := buildSchedule(data)
		if s.Validate() != nil {
			return
		}
		back, err := ParseSchedule(s.String())
		require.NoError(t, err, s.String())
		require.Equal(t, s, back)

		clk := &fakeClock{}
		in := NewInjector(s, Options{Clock: clk, Answered: func(Answer) {}})
		_, cancel := in.Context(context.Background())
		defer cancel()
		p, b := in.Wrap(newMem("flash0", 16<<10), Primary), in.Wrap(newMem("flash1", 16<<10), Backup)
		buf := make([]byte, 256)
		for i := int64(0); i < 24; i++ {
			off := (i % 4) * 4096
			switch i % 3 {
			case 0:
				_, _ = p.ReadAt(buf, off)
			case 1:
				_ = b.Erase(off, 4096)
			case 2:
				_, _ = b.WriteAt(buf, off+256)
			}
		}
		in.ExpireWeak()
		require.NoError(t, in.Err(), s.String())
	})
}

// buildSchedule turns fuzz bytes into a schedule: gofuzz fills the scalar
// parts; the custom functions choose among the predicate and action types.
func buildSchedule(data []byte) Schedule {
	fz := fuzz.NewFromGoFuzz(data).NilChance(0).Funcs(
		func(p *Pred, c fuzz.Continue) { *p = fuzzPred(c, 0) },
		func(a *Action, c fuzz.Continue) { *a = fuzzAction(c) },
	)
	var s Schedule
	fz.Fuzz(&s.Seed)
	n := 1 + len(data)%4
	for i := 0; i < n; i++ {
		var r Rule
		fz.Fuzz(&r)
		s.Rules = append(s.Rules, r)
	}
	return s
}

func fuzzPred(c fuzz.Continue, depth int) Pred {
	small := func() int64 { return int64(c.Intn(64)) }
	k := c.Intn(13)
	if depth > 2 && k >= 10 {
		k = c.Intn(10)
	}
	switch k {
	case 0:
		return Always{}
	case 1:
		return At{small()}
	case 2:
		return DevAt{small()}
	case 3:
		return Every{1 + small()}
	case 4:
		return After{small()}
	case 5:
		return Before{small()}
	case 6:
		return Random{Probability: c.Float64(), Seed: c.Uint64()}
	case 7:
		lo := int64(c.Intn(16 << 10))
		return Addr{Lo: lo, Hi: lo + 1 + int64(c.Intn(8<<10))}
	case 8:
		return OnRole{Role(1 + c.Intn(2))}
	case 9:
		return OnKind{Kind(1 + c.Intn(3))}
	case 10, 11:
		var ps []Pred
		for i := c.Intn(4); i > 0; i-- {
			ps = append(ps, fuzzPred(c, depth+1))
		}
		if k == 10 {
			return And{ps}
		}
		return Or{ps}
	default:
		return Not{fuzzPred(c, depth+1)}
	}
}

func fuzzAction(c fuzz.Continue) Action {
	region := func() (int64, int64) {
		lo := int64(c.Intn(16 << 10))
		return lo, lo + 1 + int64(c.Intn(4<<10))
	}
	switch c.Intn(13) {
	case 0:
		return Cut{}
	case 1:
		return Torn{Mode: TornMode(1 + c.Intn(3)), Unstable: c.RandBool()}
	case 2:
		lo, hi := region()
		return Flip{Role: Role(1 + c.Intn(2)), Lo: lo, Hi: hi, Bits: 1 + c.Intn(16)}
	case 3:
		lo, hi := region()
		return Scribble{Role: Role(1 + c.Intn(2)), Lo: lo, Hi: hi}
	case 4:
		return Delay{time.Duration(c.Int63n(int64(10 * time.Second)))}
	case 5:
		return Fail{FailKind(1 + c.Intn(2))}
	case 6:
		return GoBad{}
	case 7:
		return SilentErase{Partial: c.RandBool()}
	case 8:
		return Weak{}
	case 9:
		from := Role(1 + c.Intn(2))
		return Copy{From: from, To: 3 - from}
	case 10:
		return Cancel{}
	case 11:
		lo, hi := region()
		return Fade{Role: Role(1 + c.Intn(2)), Lo: lo, Hi: hi}
	default:
		return WearOut{}
	}
}

func TestBuildScheduleIsDeterministic(t *testing.T) {
	a, b := buildSchedule([]byte("same bytes")), buildSchedule([]byte("same bytes"))
	require.Equal(t, a, b)
	require.NotEmpty(t, a.Rules)
}
