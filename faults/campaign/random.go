package campaign

import (
	"math/rand/v2"

	"github.com/cmcsync/cmcsync/faults"
)

// randomCase draws the n-th schedule of a random campaign: a power cut or
// torn operation somewhere in the round, failed reads of the primary (an
// anomaly whose wait stays below the threshold), slow primary reads below
// the threshold, failed backup writes; or a probe of the primary that
// stalls for twice the threshold (a failover is due), sometimes followed by
// a power cut.
func randomCase(b *bench, seed uint64, n int) Case {
	r := rand.New(rand.NewPCG(seed, uint64(n)^0x9e3779b97f4a7c15))
	ops := int64(len(b.steps))
	s := faults.Schedule{Seed: seed ^ uint64(n)}
	var primaryReads, backupWrites, probes []int64
	for i, st := range b.steps {
		if st.op.Role == faults.Primary && st.op.Kind == faults.Read && st.op.Off == b.layout.ImageOff {
			probes = append(probes, int64(i))
		}
		switch {
		case st.op.Role == faults.Primary && st.op.Kind == faults.Read:
			primaryReads = append(primaryReads, int64(i))
		case st.op.Role == faults.Backup && st.op.Kind != faults.Read:
			backupWrites = append(backupWrites, int64(i))
		}
	}
	if r.Float64() < 0.3 && len(primaryReads) > 0 {
		s.Rules = append(s.Rules, faults.Rule{When: faults.At{Index: primaryReads[r.IntN(len(primaryReads))]}, Do: faults.Fail{Kind: faults.FailMedia}})
	}
	if r.Float64() < 0.2 {
		s.Rules = append(s.Rules, faults.Rule{
			When: faults.And{Preds: []faults.Pred{faults.OnRole{Role: faults.Primary}, faults.OnKind{Kind: faults.Read}, faults.Random{Probability: 0.2, Seed: r.Uint64()}}},
			Do:   faults.Delay{Duration: b.scenario.Threshold / 4}})
	}
	if r.Float64() < 0.2 && len(probes) > 0 {
		// The primary does not answer a probe for twice the threshold:
		// a failover is due (and a cut may follow while it is made).
		s.Rules = append(s.Rules, faults.Rule{When: faults.At{Index: probes[r.IntN(len(probes))]}, Do: faults.Delay{Duration: 2 * b.scenario.Threshold}})
		if r.IntN(2) == 0 {
			s.Rules = append(s.Rules, faults.Rule{When: faults.At{Index: r.Int64N(ops + 40)}, Do: faults.Cut{}})
		}
		return Case{Scenario: b.scenario.Name, Seed: b.seed, Mutant: b.mutant, Round: s}
	}
	if r.Float64() < 0.15 && len(backupWrites) > 0 {
		s.Rules = append(s.Rules, faults.Rule{When: faults.At{Index: backupWrites[r.IntN(len(backupWrites))]}, Do: faults.Fail{Kind: faults.FailMedia}})
	}
	if len(s.Rules) == 0 || r.Float64() < 0.6 {
		i := r.Int64N(ops)
		var do faults.Action = faults.Cut{}
		if r.IntN(2) == 0 {
			do = faults.Torn{Mode: faults.TornMode(1 + r.IntN(3)), Unstable: r.IntN(3) == 0}
		}
		s.Rules = append(s.Rules, faults.Rule{When: faults.At{Index: i}, Do: do})
	}
	return Case{Scenario: b.scenario.Name, Seed: b.seed, Mutant: b.mutant, Round: s}
}
