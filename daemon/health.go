package daemon

import (
	"time"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/web"
)

// FlashHealth is the chips' work and wear and the backup store's health,
// for /metrics (web.FlashReporter): per chip, its erases and bytes written
// and read since the daemon started (the chip's own statistics, so the
// simulated CMC's writes to the primary count too) and, on simulated
// chips, its worst block's lifetime erase count and rated endurance; the
// backup's health; and the age of the last complete scrub.
func (d *Daemon) FlashHealth() web.FlashHealth {
	var h web.FlashHealth
	for i, f := range d.raw {
		st, ok := hal.StatsOf(f)
		if !ok {
			continue
		}
		c := web.ChipHealth{Name: f.Geometry().Name, Erases: st.Erases, BytesWritten: st.BytesProgrammed, BytesRead: st.BytesRead}
		if s := d.simChips[i]; s != nil {
			c.WorstBlockErases, c.Endurance = s.MaxWear(), int64(s.Part().Endurance)
		}
		h.Chips = append(h.Chips, c)
	}
	scrub := d.logbook.lastScrub()
	st := d.engine.Status()
	h.BackupHealthy = backupHealthy(st, scrub)
	h.DamagedChunks = unrepaired(st)
	if !scrub.Time.IsZero() {
		h.Scrubbed = true
		h.ScrubAge = scrubAge(scrub, monotonic(), time.Now())
	}
	return h
}

// backupHealthy reports whether the backup store's checks found no
// damage: none when the store was opened (Status.Damage) and, by the
// engine's scrub (Status.BackupHealth), no committed chunk damaged and
// left unrepaired. Until the engine's first pass since Open ends (health
// unknown) the last pass the history kept decides, so a restart does not
// turn damage found before it into health.
func backupHealthy(st engine.Status, scrub scrubResult) bool {
	if len(st.Damage) > 0 {
		return false
	}
	switch st.BackupHealth {
	case engine.HealthOK:
		return true
	case engine.HealthUnknown, "":
		return scrub.Bad == 0
	}
	return false // damaged, unrepairable
}

// scrubAge is the time since a scrub ended: on the monotonic clock for a
// scrub of this run (wall-clock steps do not move it), else from its wall
// time, never negative.
func scrubAge(s scrubResult, mono time.Duration, now time.Time) time.Duration {
	if s.mono > 0 {
		return mono - s.mono
	}
	return max(now.Sub(s.Time), 0)
}

// FlashHealth reports the daemon's FlashHealth (web.FlashReporter).
func (b backend) FlashHealth() web.FlashHealth { return b.d.FlashHealth() }
