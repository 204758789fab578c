package faults

import (
	"testing"
	"time"

	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
)

// BenchmarkInjectorPageProgram programs 4 KiB (16 pages) at a time on a
// simulated chip, directly and through an injector splitting pages whose
// rules strike no page (a failover's restore: tens of thousands of page
// programs no rule can match), so that one run gives the injector's cost
// per page.
func BenchmarkInjectorPageProgram(b *testing.B) {
	s, _ := ParseSchedule("(seed 2) (on (at 100000000) (cut)) (on (and (role primary) (kind read) (after 5) (before 600)) (fail timeout))")
	for _, wrapped := range []bool{false, true} {
		b.Run(map[bool]string{false: "sim", true: "injector"}[wrapped], func(b *testing.B) {
			clk := sim.NewClock(time.Unix(0, 0))
			chip := simtest.Chip(b, "mx66l1g45g", sim.Options{Size: 32 << 20, Clock: clk, Name: "flash1", Seed: 5})
			var f interface {
				WriteAt([]byte, int64) (int, error)
				Erase(int64, int64) error
			} = chip
			var ops []Op
			if wrapped {
				in := NewInjector(s, Options{SplitPages: true, Clock: clk, Trace: func(op Op) { op.Data = nil; ops = append(ops, op) }, Answered: func(a Answer) {}})
				f = in.Wrap(chip, Backup)
			}
			page := make([]byte, 4096)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				off := int64(i%4096) * 4096
				if off == 0 {
					b.StopTimer()
					_ = chip.Erase(0, 16<<20)
					ops = ops[:0]
					b.StartTimer()
				}
				_, _ = f.WriteAt(page, off)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/16, "ns/page")
		})
	}
}
