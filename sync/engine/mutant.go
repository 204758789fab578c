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
)

// MutantInfo describes a mutant.
type MutantInfo struct {
	Mutant      Mutant
	Name        string
	Description string
}

var mutants = []MutantInfo{
	{None, "none", "the real engine"},
	{NoPurge, "no-purge", "purge skips erasing and verifying the interrupted round's blocks (still writes the purged mark)"},
	{CommitBeforeDurable, "commit-before-durable", "the commit record is written before the round's chunks"},
	{NoCRCCheck, "no-crc-check", "recovery and reads trust journal records and chunks without checking CRCs or digests"},
	{ReinitInFlight, "reinit-in-flight", "reinit restores the interrupted round's configuration instead of the last committed one"},
	{ThresholdIgnored, "threshold-ignored", "every anomaly fails over, whatever the measured wait-response time"},
	{PrimaryWritten, "primary-written", "each round clears one bit of the primary's firmware image body"},
	{NoWriteProbe, "no-write-probe", "the primary is not probed between the round's chunk writes (only before and after them), so a primary failing mid-write lets the whole round write on"},
	{FailoverNoRestore, "failover-no-restore", "a failover makes the backup chip active without restoring its information region from the last committed generation (and records the restore as done)"},
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
