package engine

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/sync/info"
)

// BenchmarkStandardRound measures the standard round: an 8 MiB information
// region on an MX66L1G45G (typical timing), synced once, then one round
// per iteration after a typical interval's changes (about 1% of the data).
// sim-s/round is simulated (datasheet) time; cpu time is ns/op.
func BenchmarkStandardRound(b *testing.B) {
	p := newPair(b, 32<<20, 8<<20, DefaultConfig())
	e := p.open(b)
	ctx := context.Background()
	_, err := e.Round(ctx)
	require.NoError(b, err)
	region := p.region(b, p.a)
	var simTime time.Duration
	var erases, pages, read, chunks int64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		require.NoError(b, p.gen.Step(region, info.TypicalInterval))
		b.StartTimer()
		rep, err := e.Round(ctx)
		if err != nil {
			b.Fatal(err)
		}
		simTime += rep.Duration
		erases += rep.Erases
		pages += rep.PagesProgrammed
		read += rep.BytesRead
		chunks += int64(rep.ChangedChunks)
	}
	n := float64(b.N)
	b.ReportMetric(simTime.Seconds()/n, "sim-s/round")
	b.ReportMetric(float64(erases)/n, "erases/round")
	b.ReportMetric(float64(pages)/n, "pages/round")
	b.ReportMetric(float64(read)/n, "bytes-read/round")
	b.ReportMetric(float64(chunks)/n, "chunks/round")
}
