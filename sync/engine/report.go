package engine

import (
	"errors"
	"time"
)

// Round outcomes.
const (
	OutcomeCommitted      = "committed"       // a generation with changed data was committed
	OutcomeNothingChanged = "nothing-changed" // committed with no data written (commit record only)
	OutcomeInterrupted    = "interrupted"     // anomaly, primary answered within the threshold: purged, retried later
	OutcomeFailover       = "failover"        // anomaly, primary did not answer within the threshold: failed over, purged
	OutcomeUpgradePending = "upgrade-pending" // the primary's image was upgraded: waiting for Upgrade
	OutcomeError          = "error"           // a flash error ended the round (see Error)
	// OutcomeRestorePending: a failover's restore is pending and its retry
	// failed (see ErrRestorePending); the round wrote nothing to the backup.
	OutcomeRestorePending = "restore-pending"
)

// RoundReport says what one round did.
type RoundReport struct {
	Generation    uint64   `json:"generation"` // committed (or attempted) generation
	Outcome       string   `json:"outcome"`
	Types         TypeList `json:"types"`          // the group this round synced
	ChangedTypes  TypeList `json:"changed_types"`  // types whose data changed
	ChangedChunks int      `json:"changed_chunks"` // chunks written
	// ReadWhole lists the types the round read whole; the others it read
	// through the information region's change table: the record header,
	// the table and the chunks the table says changed.
	ReadWhole TypeList `json:"read_whole,omitempty"`
	// Flash work on both chips (from hal.Stats when the devices keep them,
	// else counted by the engine).
	BytesRead       int64 `json:"bytes_read"`
	BytesWritten    int64 `json:"bytes_written"`
	Erases          int64 `json:"erases"`
	PagesProgrammed int64 `json:"pages_programmed"`
	// DataErases and DataPages are the part of the work spent on chunk
	// data (the rest is metadata: journal records, and an erase of the
	// journal block a restarted engine continues in).
	DataErases int64 `json:"data_erases"`
	DataPages  int64 `json:"data_pages"`
	// Started is the date the round started (Options.Wall, see wall.go);
	// Duration is clock time (simulated time on simulated chips).
	Started      time.Time     `json:"started"`
	Duration     time.Duration `json:"duration"`
	WaitResponse time.Duration `json:"wait_response"` // after an anomaly: how long the backup waited for the primary
	// WritesAfterAnomaly is, after an anomaly, how many chunks the round
	// wrote to the backup after the last probe the primary answered
	// correctly: an upper bound of the backup writes made after the
	// anomaly began (the primary failed after that probe, at a moment no
	// request saw). The bound it keeps: before each chunk write the round
	// probes the primary if Options.ProbeEvery has passed since the last
	// probe, so these are at most the writes that start within one
	// ProbeEvery of a probe (the writes of one probe interval).
	WritesAfterAnomaly int `json:"writes_after_anomaly"`
	// Anomaly is the text of the error that interrupted the round (for
	// JSON and logs); AnomalyErr is that error, for errors.Is (an erased
	// information region header wraps info.ErrRegionErased). Not encoded:
	// a decoded report has the text only.
	Anomaly      string `json:"anomaly,omitempty"`
	AnomalyErr   error  `json:"-"`
	PurgedBlocks int    `json:"purged_blocks,omitempty"`
	Error        string `json:"error,omitempty"`
	// began is the clock's reading at Started: Duration is measured from
	// it (not encoded).
	began time.Time
}

// finish ends a round: duration, flash work, outcome, error and event.
func (e *Engine) finish(rep *RoundReport, w *roundWork, err error) (RoundReport, error) {
	rep.Duration = e.clock.Now().Sub(rep.began)
	d := w.done()
	rep.BytesRead, rep.BytesWritten, rep.Erases, rep.PagesProgrammed = d.BytesRead, d.BytesProgrammed, d.Erases, d.PagesProgrammed
	if err != nil && rep.Outcome == "" {
		rep.Outcome = OutcomeError
	}
	if err != nil {
		rep.Error = err.Error()
		e.noteNotSynced(rep, err.Error())
		if !errors.Is(err, ErrUpgradePending) {
			e.event(EventError, rep.Generation, err.Error())
			e.setErr(err)
		}
	} else {
		e.setErr(nil)
	}
	e.setLastReport(*rep)
	return *rep, err
}

// setLastReport keeps rep as the last round's report (Status.LastRound).
func (e *Engine) setLastReport(rep RoundReport) {
	e.mu.Lock()
	e.lastReport = &rep
	e.mu.Unlock()
}
