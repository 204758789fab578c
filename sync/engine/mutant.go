package engine

import (
	"fmt"
	"strings"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/info"
)

// Mutant selects a deliberately broken variant of the engine, for proving
// that the fault harness catches broken engines. None is the real engine.
// Every mutant is a small, marked branch; the real path pays nothing for it.
//
// Only the fault harness sets Options.Mutant: the shipped binary offers
// the mutants to its harness commands (campaign --mutant, vm scenario
// --mutant), never to the daemon or to sync. A product never runs one.
type Mutant uint8

// The mutants.
const (
	None                Mutant = iota
	NoPurge                    // the purge writes its mark but erases and verifies nothing
	CommitBeforeDurable        // the commit record is written before the round's data
	NoCRCCheck                 // recovery and reads trust records and chunks without CRC or digest checks
	ReinitInFlight             // reinit takes the configuration of the interrupted round, not the last commit
	ThresholdIgnored           // every anomaly fails over, whatever the wait-response time
	PrimaryWritten             // the round clears a bit of the primary's firmware image
	NoWriteProbe               // the primary is not probed while the round writes its chunks
	FailoverNoRestore          // a failover does not restore the new active chip's information region

	// Mutants of the daemon's life around the rounds, which only the
	// lifecycle campaign exercises (MutantInfo.Lifecycle).
	ConfigNotDurable // SetConfig only stages the configuration for the next round
	UpgradeForgotten // Open does not notice an image upgrade waiting for its choice
	RestoreForgotten // Open neither completes nor reports a restore-defaults cut short
	ScrubRepairExtra // a scrub's repair also rewrites the chunk after the damaged one
	FormatLateIntent // Format writes no format intents before it formats each chip in turn

	DeltaBeforeDurable // the commit record is written before the round's delta blocks
)

// MutantInfo describes a mutant.
type MutantInfo struct {
	Mutant      Mutant
	Name        string
	Description string
	// Lifecycle: the mutant breaks what happens around the rounds
	// (configuration commits, upgrade choices across restarts, the scrub,
	// the format), which the lifecycle campaign judges; a campaign of one
	// round does not reach its code.
	Lifecycle bool
}

var mutants = []MutantInfo{
	{None, "none", "the real engine", false},
	{NoPurge, "no-purge", "purge skips erasing and verifying the interrupted round's blocks (still writes the purged mark)", false},
	{CommitBeforeDurable, "commit-before-durable", "the commit record is written before the round's chunks", false},
	{NoCRCCheck, "no-crc-check", "recovery and reads trust journal records and chunks without checking CRCs or digests", false},
	{ReinitInFlight, "reinit-in-flight", "reinit restores the interrupted round's configuration instead of the last committed one", false},
	{ThresholdIgnored, "threshold-ignored", "every anomaly fails over, whatever the measured wait-response time", false},
	{PrimaryWritten, "primary-written", "each round clears one bit of the primary's firmware image body", false},
	{NoWriteProbe, "no-write-probe", "the primary is not probed between the round's chunk writes (only before and after them), so a primary failing mid-write lets the whole round write on", false},
	{FailoverNoRestore, "failover-no-restore", "a failover makes the backup chip active without restoring its information region from the last committed generation (and records the restore as done)", false},
	{ConfigNotDurable, "config-not-durable", "SetConfig stages the configuration for the next round instead of committing it, so an interrupted round's reinit reverts an acknowledged configuration", true},
	{UpgradeForgotten, "upgrade-forgotten", "Open does not compare the primary's image version with the committed one: an upgrade waiting for its choice is forgotten until the next round", true},
	{RestoreForgotten, "restore-forgotten", "Open neither completes a restore-defaults cut short nor reports it: the types read synced while the primary's information may be torn", true},
	{ScrubRepairExtra, "scrub-repair-extra", "a chunk the scrub found damaged is rewritten together with the next chunk of its type, which was not damaged", true},
	{FormatLateIntent, "format-late-intent", "Format formats the chips one after the other without marking both format intents first, so a cut between them leaves chips that do not say a format was under way", true},
	{DeltaBeforeDurable, "delta-before-durable", "the commit record is written after the round's full chunks but before its delta blocks, so the committed deltas are not durable yet", false},
}

// Mutants lists every mutant, None first.
func Mutants() []MutantInfo { return append([]MutantInfo(nil), mutants...) }

// String returns the mutant's name.
func (m Mutant) String() string {
	if int(m) < len(mutants) {
		return mutants[m].Name
	}
	return fmt.Sprintf("mutant(%d)", uint8(m))
}

// ParseMutant returns the mutant named s ("" means none).
func ParseMutant(s string) (Mutant, error) {
	if s == "" {
		return None, nil
	}
	var names []string
	for _, mi := range mutants {
		if mi.Name == s {
			return mi.Mutant, nil
		}
		names = append(names, mi.Name)
	}
	return None, fmt.Errorf("unknown mutant %q (want one of %s)", s, strings.Join(names, ", "))
}

// readRecordUnchecked is the no-crc-check mutant's record read: the
// payload's CRC is not checked.
func readRecordUnchecked(primary hal.Flash, off int64, hb []byte, t info.Type) (info.Record, error) {
	if _, err := primary.ReadAt(hb, off); err != nil {
		return info.Record{}, err
	}
	h, err := info.DecodeRecordHeader(hb)
	if err != nil {
		return info.Record{}, err
	}
	p := make([]byte, h.PayloadLen)
	if _, err := primary.ReadAt(p, off+info.RecordHeaderSize); err != nil {
		return info.Record{}, err
	}
	return info.Record{Type: t, Seq: h.Seq, Payload: p, CRC: h.PayloadCRC}, nil
}

// scribblePrimary is the primary-written mutant: it clears one bit of the
// primary's image body.
func (e *Engine) scribblePrimary(primary hal.Flash) {
	l := e.opts.Layout
	off := l.ImageOff + info.ImageHeaderSize + (l.ImageSize-info.ImageHeaderSize)/2
	b := make([]byte, 1)
	for ; off < l.ImageOff+l.ImageSize; off++ {
		if _, err := primary.ReadAt(b, off); err != nil {
			return
		}
		if b[0] != 0 {
			b[0] &= b[0] - 1
			_, _ = primary.WriteAt(b, off)
			return
		}
	}
}
