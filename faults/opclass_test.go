package faults

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestClassOfHoldsEveryMatch: every operation a predicate matches is in
// its class (the injector skips Match outside it), and the classes are as
// narrow as the predicates say.
func TestClassOfHoldsEveryMatch(t *testing.T) {
	primaryReads := And{Preds: []Pred{OnRole{Role: Primary}, OnKind{Kind: Read}, After{Index: 10}, Before{Index: 20}}}
	for _, tc := range []struct {
		pred Pred
		// in and out are operations the class must admit and leave out.
		in, out []Op
	}{
		{pred: At{Index: 5}, in: []Op{{Index: 5, Role: Backup, Kind: Erase}}, out: []Op{{Index: 4}, {Index: 6}}},
		{pred: At{Index: math.MaxInt64}, in: []Op{{Index: math.MaxInt64}}, out: []Op{{Index: math.MaxInt64 - 1}}},
		{pred: After{Index: 0}, in: []Op{{Index: math.MaxInt64}}},
		{pred: Before{Index: math.MinInt64}, out: []Op{{Index: math.MinInt64}, {Index: 0}}},
		{pred: After{Index: 7}, in: []Op{{Index: 7}, {Index: 1 << 40}}, out: []Op{{Index: 6}}},
		{pred: Before{Index: 7}, in: []Op{{Index: 0}, {Index: 6}}, out: []Op{{Index: 7}}},
		{pred: OnRole{Role: Backup}, in: []Op{{Role: Backup, Kind: Read}}, out: []Op{{Role: Primary, Kind: Read}}},
		{pred: OnKind{Kind: Program}, in: []Op{{Kind: Program, Role: Primary}}, out: []Op{{Kind: Read, Role: Primary}}},
		{pred: primaryReads, in: []Op{{Index: 10, Role: Primary, Kind: Read}, {Index: 19, Role: Primary, Kind: Read}},
			out: []Op{{Index: 9, Role: Primary, Kind: Read}, {Index: 20, Role: Primary, Kind: Read}, {Index: 15, Role: Backup, Kind: Read}, {Index: 15, Role: Primary, Kind: Program}}},
		{pred: Or{Preds: []Pred{At{Index: 3}, And{Preds: []Pred{OnRole{Role: Backup}, At{Index: 9}}}}},
			in: []Op{{Index: 3, Role: Primary}, {Index: 9, Role: Backup}}, out: []Op{{Index: 2}, {Index: 10}}},
		{pred: Or{}, out: []Op{{Index: 0}, {Index: 9, Role: Backup, Kind: Erase}}},
		{pred: And{Preds: []Pred{At{Index: 3}, At{Index: 4}}}, out: []Op{{Index: 3}, {Index: 4}}},
		{pred: Not{Pred: At{Index: 3}}, in: []Op{{Index: 3}, {Index: 4}}},
		{pred: Random{Probability: 0.5, Seed: 3}, in: []Op{{Index: 3}, {Index: 4}}},
		{pred: Addr{Lo: 0, Hi: 10}, in: []Op{{Index: 3, Off: 100}}},
	} {
		c := classOf(tc.pred)
		for _, op := range tc.in {
			require.True(t, c.admits(op), "%v must admit %+v", tc.pred, op)
		}
		for _, op := range tc.out {
			require.False(t, c.admits(op), "%v must leave out %+v", tc.pred, op)
		}
		r := rand.New(rand.NewPCG(1, 2))
		for range 5000 {
			op := Op{Index: r.Int64N(40), Role: Role(1 + r.IntN(2)), Kind: Kind(1 + r.IntN(3)), Off: r.Int64N(200), Len: r.Int64N(20)}
			if tc.pred.Match(op) {
				require.True(t, c.admits(op), "%v matches %+v, which its class leaves out", tc.pred, op)
			}
		}
	}
}

// TestInjectorBulkPathSameAnswers: an injector whose rules' classes leave
// out most operations fires exactly the actions, and traces exactly the
// operations, of one that matches every rule against every operation.
func TestInjectorBulkPathSameAnswers(t *testing.T) {
	s, err := ParseSchedule("(seed 4) (on (at 7) (fail media)) (on (and primary read (after 3) (before 9)) (fail timeout)) (on (or (at 12) (at 15)) (delay 1ms))")
	require.NoError(t, err)
	run := func(narrow bool) ([]Op, []Fired) {
		var ops []Op
		in := NewInjector(s, Options{Clock: &fakeClock{}, Trace: func(op Op) { op.Data = nil; ops = append(ops, op) }})
		if !narrow {
			for i := range in.classes {
				in.classes[i] = anyOp
			}
		}
		a, b := in.Wrap(newMem("chip", 1<<16), Primary), in.Wrap(newMem("chip", 1<<16), Backup)
		buf := make([]byte, 256)
		for i := range 20 {
			f := a
			if i%3 == 0 {
				f = b
			}
			if i%2 == 0 {
				_, _ = f.ReadAt(buf, int64(i)*256)
			} else {
				_, _ = f.WriteAt(buf, int64(i)*256)
			}
		}
		return ops, in.Fired()
	}
	ops, fired := run(true)
	wantOps, wantFired := run(false)
	require.Equal(t, wantOps, ops)
	require.Equal(t, wantFired, fired)
	require.Len(t, fired, 5, "%v", fired)
}
