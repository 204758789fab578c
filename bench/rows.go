package bench

import "time"

// row turns a strategy's tally over a workload's rounds into a per-round
// row (the physical floor and the ratios are filled in by runWorkload).
func (sc *scenario) row(w Workload, strategy string, t tally) Row {
	m := sc.model
	n := float64(w.Rounds)
	r := Row{Part: sc.part.Name, Timing: sc.timing, EraseModel: sc.eraseModel.String(), RegionSize: sc.size,
		Workload: w.Name, Strategy: strategy, Rounds: w.Rounds, ChangedBytes: float64(t.changed) / n,
		PageProgramSeconds: m.PageProgram.Seconds(), CommitRecordSeconds: m.CommitRecord().Seconds()}
	r.ChangePct = r.ChangedBytes / float64(sc.size) * 100
	if strategy == StrategyRewriteFloor {
		c := t.floor
		r.LatencySeconds = (c.ReadTime + c.ProgramTime).Seconds() / n
		r.DeviceSeconds = c.Time.Seconds() / n
		r.Erases, r.PagesProgrammed = float64(c.Erases)/n, float64(c.PagesProgrammed)/n
		r.BytesProgrammed, r.BytesRead = float64(c.BytesProgrammed)/n, float64(c.BytesRead)/n
		r.ReadSeconds, r.ProgramSeconds, r.EraseSeconds = c.ReadTime.Seconds()/n, c.ProgramTime.Seconds()/n, c.EraseTime.Seconds()/n
	} else {
		s := t.stats
		r.LatencySeconds = t.sim.Seconds() / n
		r.DeviceSeconds = r.LatencySeconds
		r.Erases, r.PagesProgrammed = float64(s.Erases)/n, float64(s.PagesProgrammed)/n
		r.BytesProgrammed, r.BytesRead = float64(s.BytesProgrammed)/n, float64(s.BytesRead)/n
		r.HostCPUSeconds = t.cpu.Seconds() / n
		read := time.Duration(s.Reads)*m.CommandOverhead + m.BusTime(s.BytesRead)
		prog := time.Duration(s.PagesProgrammed)*(m.CommandOverhead+m.PageProgram) + m.BusTime(s.BytesProgrammed)
		r.ReadSeconds, r.ProgramSeconds = read.Seconds()/n, prog.Seconds()/n
		r.EraseSeconds = (s.Elapsed - read - prog).Seconds() / n
		r.WaitSeconds = (t.sim - s.Elapsed).Seconds() / n
		if t.debt != 0 {
			// Erased blocks taken from (or left to) the stock, one erase
			// command each and, for the peers, the read that checks it
			// erased (flashrom reads every erase back): work done outside
			// the round. The engine's idle erase reads nothing back on
			// NOR: a round reads such a block before it programs it,
			// unless it programs it whole and reads that back twice
			// (docs/FORMAT.md "Verifying programs and erases"), and that
			// read is in the round's own device time.
			d := m.erasesFor(t.debt)
			chk := m.erasedChecks(t.debt)
			if strategy == StrategyEngine {
				chk = Cost{}
			}
			r.StockErases = float64(t.debt) / n
			r.Erases += r.StockErases
			r.EraseSeconds += d.EraseTime.Seconds() / n
			r.ReadSeconds += chk.ReadTime.Seconds() / n
			r.BytesRead += float64(chk.BytesRead) / n
			r.DeviceSeconds += (d.EraseTime + chk.ReadTime).Seconds() / n
		}
	}
	if t.changed > 0 {
		r.WriteAmp = r.BytesProgrammed / r.ChangedBytes
	}
	for _, v := range t.wear {
		r.WorstWear = max(r.WorstWear, v)
	}
	return r
}
