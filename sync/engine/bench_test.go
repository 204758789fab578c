package engine

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/hal"
)

// BenchmarkStandardRound measures the standard round: an 8 MiB information
// region on an MX66L1G45G (typical timing), synced once, then one round
// per iteration after a typical interval's changes (about 1% of the data).
// sim-s/round is simulated (datasheet) time; cpu time is ns/op.
func BenchmarkStandardRound(b *testing.B) {
	p, e := standardSynced(b)
	region := p.region(b, p.chipA)
	benchRounds(b, e, func() error { return p.cmc.Step(region, cmcsim.TypicalInterval) }).report(b, true)
}

// standardSynced is the standard pair (an 8 MiB information region on
// 32 MiB chips) after a first round, and its engine.
func standardSynced(b *testing.B) (*pair, *Engine) {
	p := newPair(b, 32<<20, 8<<20, DefaultConfig())
	e := p.open(b)
	_, err := e.Round(context.Background())
	require.NoError(b, err)
	return p, e
}

// roundTotals sums the reports of a benchmark's rounds.
type roundTotals struct {
	simTime                     time.Duration
	erases, pages, read, chunks int64
}

// benchRounds runs b.N rounds of e, each after step (not timed), and sums
// their reports.
func benchRounds(b *testing.B, e *Engine, step func() error) roundTotals {
	ctx := context.Background()
	var s roundTotals
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		require.NoError(b, step())
		b.StartTimer()
		rep, err := e.Round(ctx)
		if err != nil {
			b.Fatal(err)
		}
		s.simTime += rep.Duration
		s.erases += rep.Erases
		s.pages += rep.PagesProgrammed
		s.read += rep.BytesRead
		s.chunks += int64(rep.ChangedChunks)
	}
	return s
}

// report reports the totals per round (bytes read only if read).
func (s roundTotals) report(b *testing.B, read bool) {
	n := float64(b.N)
	b.ReportMetric(s.simTime.Seconds()/n, "sim-s/round")
	b.ReportMetric(float64(s.erases)/n, "erases/round")
	b.ReportMetric(float64(s.pages)/n, "pages/round")
	if read {
		b.ReportMetric(float64(s.read)/n, "bytes-read/round")
	}
	b.ReportMetric(float64(s.chunks)/n, "chunks/round")
}

// benchOpens opens the pair b.N times, each after reset (not timed), and
// returns the flash operations the opens made.
func benchOpens(b *testing.B, p *pair, reset func()) hal.Stats {
	ctx := context.Background()
	var st hal.Stats
	b.ResetTimer()
	for range b.N {
		reset()
		before := p.chipA.Stats().Add(p.chipB.Stats())
		if _, err := Open(ctx, p.chipA, p.chipB, p.opts); err != nil {
			b.Fatal(err)
		}
		st = st.Add(p.chipA.Stats().Add(p.chipB.Stats()).Sub(before))
	}
	return st
}

// BenchmarkOpenRecovery measures Open (recovery) after a power cut in the
// middle of a standard round's writes: reads of metadata, the purge of the
// round's blocks, the purged mark. It reports the flash operations and
// simulated time recovery costs.
func BenchmarkOpenRecovery(b *testing.B) {
	p, _ := standardSynced(b)
	ctx := context.Background()
	require.NoError(b, p.cmc.Step(p.region(b, p.chipA), cmcsim.TypicalInterval))
	// Find the round's programs and erases, then cut in the middle.
	writes := writesOf(p.traceRound(b, p.opts, "none"))
	total := len(writes)
	e, _ := p.openWithFaults(b, p.opts, "(on (at %d) cut)", writes[total/2-1].Index)
	_, _ = e.Round(ctx)
	cutA, cutB := p.chipA.Snapshot(), p.chipB.Snapshot()
	st := benchOpens(b, p, func() {
		p.chipA.Restore(cutA)
		p.chipB.Restore(cutB)
	})
	n := float64(b.N)
	b.ReportMetric(float64(st.Reads)/n, "reads/open")
	b.ReportMetric(float64(st.BytesRead)/n, "bytes-read/open")
	b.ReportMetric(float64(st.Erases)/n, "erases/open")
	b.ReportMetric(float64(st.Programs)/n, "programs/open")
	b.ReportMetric(st.Elapsed.Seconds()/n, "sim-s/open")
	b.ReportMetric(float64(total), "ops/round")
}

// BenchmarkOpenClean measures Open when there is nothing to recover.
func BenchmarkOpenClean(b *testing.B) {
	p, _ := standardSynced(b)
	st := benchOpens(b, p, func() {})
	n := float64(b.N)
	b.ReportMetric(float64(st.Reads)/n, "reads/open")
	b.ReportMetric(float64(st.BytesRead)/n, "bytes-read/open")
	b.ReportMetric(float64(st.Programs+st.Erases)/n, "writes/open")
}

// BenchmarkStandardRoundSteady is BenchmarkStandardRound once the store is
// in steady state: the data area has been written round (full rewrites of
// two alternating contents), so every chunk a round writes needs an erase
// (or a share of a 64 KiB block erase).
func BenchmarkStandardRoundSteady(b *testing.B) {
	p := newPair(b, 32<<20, 8<<20, DefaultConfig())
	e := p.open(b)
	ctx := context.Background()
	region := p.region(b, p.chipA)
	gens := []*cmcsim.Generator{cmcsim.New(11), cmcsim.New(12)}
	for i := 0; ; i++ {
		require.Less(b, i, 20, "store never reached steady state")
		require.NoError(b, gens[i%2].Populate(region))
		rep, err := e.Round(ctx)
		require.NoError(b, err)
		if rep.ChangedChunks > 0 && rep.Erases >= int64(rep.ChangedChunks) && i%2 == 1 {
			break
		}
	}
	benchRounds(b, e, func() error { return gens[1].Step(region, cmcsim.TypicalInterval) }).report(b, false)
}
