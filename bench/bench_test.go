package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sim"
)

// BenchmarkSync reports, per part, workload and strategy on an 8 MiB info
// region at typical timings under the 4k erase model (the project's
// kernel), the figures of the bench table as custom metrics, so benchstat
// can compare two commits:
//
//	device-s/op   device seconds of one sync round (Row.DeviceSeconds)
//	latency-s/op  what the round waited for (Row.LatencySeconds)
//	erases/op     erase units (4 KiB) erased
//	pages/op      pages programmed
//	read-B/op     bytes read
//	WA            bytes programmed / bytes changed
//	cpu-ms/op     host CPU time of the strategy itself (0 for the rewrite floor)
//	vs-phys       device-s/op divided by the physical floor's
//
// ns/op also counts preparing each round (the change and its diff).
func BenchmarkSync(b *testing.B) {
	const size = 8 << 20
	envs := map[string]*env{}
	var states *regionStates
	changes := newChangeCache(1)
	for _, pn := range []string{"mx66l1g45g", "w25q256jv"} {
		part, err := sim.LookupPart(pn)
		if err != nil {
			b.Fatal(err)
		}
		for _, w := range []Workload{Activity(cmcsim.TypicalInterval, 1), Synthetic(1, true), Synthetic(10, true), Synthetic(1, false)} {
			for _, s := range Strategies() {
				if s == StrategyEngine && !engineAvailable {
					continue
				}
				name := fmt.Sprintf("part=%s/region=%s/workload=%s/strategy=%s", pn, hal.FormatSize(size), w.Name, s)
				b.Run(name, func(b *testing.B) {
					sc, err := newScenario(part, "typical", sim.Erase4K, size, Config{Seed: 1, Strategies: []string{s}})
					if err != nil {
						b.Fatal(err)
					}
					e := envs[pn]
					if e == nil {
						var err error
						if states == nil {
							if states, err = buildStates(part, sim.Erase4K, size, 1); err != nil {
								b.Fatal(err)
							}
						}
						sc.strategies = Strategies()
						if e, err = sc.setup(context.Background(), states); err != nil {
							b.Fatal(err)
						}
						sc.strategies = []string{s}
						envs[pn] = e
					}
					cs, err := changes.get(part, states, w)
					if err != nil {
						b.Fatal(err)
					}
					var sum Row
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						rows, err := sc.runWorkload(context.Background(), e, w, cs)
						if err != nil {
							b.Fatalf("%v (replay: go test ./bench -run '^$' -bench '%s')", err, b.Name())
						}
						r, ok := find(rows, rows[0].Key(), s)
						if !ok {
							b.Fatalf("no %s row", s)
						}
						sum.DeviceSeconds += r.DeviceSeconds
						sum.LatencySeconds += r.LatencySeconds
						sum.Erases += r.Erases
						sum.PagesProgrammed += r.PagesProgrammed
						sum.BytesRead += r.BytesRead
						sum.BytesProgrammed += r.BytesProgrammed
						sum.ChangedBytes += r.ChangedBytes
						sum.HostCPUSeconds += r.HostCPUSeconds
						sum.VsPhysicalFloor += r.VsPhysicalFloor
					}
					n := float64(b.N)
					b.ReportMetric(sum.DeviceSeconds/n, "device-s/op")
					b.ReportMetric(sum.LatencySeconds/n, "latency-s/op")
					b.ReportMetric(sum.Erases/n, "erases/op")
					b.ReportMetric(sum.PagesProgrammed/n, "pages/op")
					b.ReportMetric(sum.BytesRead/n, "read-B/op")
					if sum.ChangedBytes > 0 {
						b.ReportMetric(sum.BytesProgrammed/sum.ChangedBytes, "WA")
					}
					b.ReportMetric(sum.HostCPUSeconds/n*1000, "cpu-ms/op")
					b.ReportMetric(sum.VsPhysicalFloor/n, "vs-phys")
				})
			}
		}
	}
}

// BenchmarkRewriteFloor is the host cost of computing the rewrite floor of
// an 8 MiB region with 1% of its bytes changed in clusters.
func BenchmarkRewriteFloor(b *testing.B) {
	part, _ := sim.LookupPart("w25q256jv")
	m, err := ModelOf(part, false, sim.Erase4K)
	if err != nil {
		b.Fatal(err)
	}
	old := make([]byte, 8<<20)
	for i := range old {
		old[i] = byte(i * 7)
	}
	cur := append([]byte(nil), old...)
	for i := 0; i < len(cur); i += 1 << 20 {
		for j := i; j < i+8<<10; j++ {
			cur[j] ^= 0x5A
		}
	}
	b.SetBytes(int64(len(old)))
	for i := 0; i < b.N; i++ {
		if _, err := RewriteFloor(old, cur, m, Info{}); err != nil {
			b.Fatal(err)
		}
	}
}
