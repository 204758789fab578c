package engine

import "github.com/cmcsync/cmcsync/hal"

// statsOf returns the sum of the chips' statistics, and false if one of
// them keeps none.
func statsOf(fs ...hal.Flash) (hal.Stats, bool) {
	var sum hal.Stats
	for _, f := range fs {
		s, ok := hal.StatsOf(f)
		if !ok {
			return hal.Stats{}, false
		}
		sum = sum.Add(s)
	}
	return sum, true
}

// roundWork measures a round's flash work (see RoundReport.BytesRead).
type roundWork struct {
	chips     [2]hal.Flash
	before    hal.Stats
	haveStats bool
	counted   hal.Stats // counted by the engine, for chips without statistics
	carried   hal.Stats // work of a first half done before this measure began
}

// newWork starts measuring a round's flash work on its two chips.
func (e *Engine) newWork(primary, backup hal.Flash) *roundWork {
	w := &roundWork{chips: [2]hal.Flash{primary, backup}}
	w.before, w.haveStats = statsOf(primary, backup)
	return w
}

// done returns the work so far.
func (w *roundWork) done() hal.Stats {
	if after, ok := statsOf(w.chips[0], w.chips[1]); ok && w.haveStats {
		return after.Sub(w.before).Add(w.carried)
	}
	return w.counted.Add(w.carried)
}
