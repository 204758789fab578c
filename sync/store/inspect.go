package store

import (
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/hal"
)

// Report is a read-only decoding of a store, for inspect and for oracles.
type Report struct {
	Superblock Superblock `json:"superblock"`
	Journal    struct {
		Area    int    `json:"area"`    // journal area in use (0 or 1)
		Epoch   uint64 `json:"epoch"`   // its checkpoint epoch
		Records int    `json:"records"` // valid records in it
		Tail    int64  `json:"tail"`    // chip offset where the next record goes
		// Torn: the journal ends with an invalid write (a record cut by
		// power loss, or damage to the last record): it is ignored.
		Torn bool         `json:"torn"`
		Log  []RecordInfo `json:"log"` // the valid records, in order
	} `json:"journal"`
	Generation    uint64        `json:"generation"`
	Time          time.Time     `json:"time"`
	NextSync      time.Time     `json:"next_sync"`
	Config        Config        `json:"config"`
	Staged        *Config       `json:"staged,omitempty"`
	ImageVersion  string        `json:"image_version"`
	UpgradeChoice uint8         `json:"upgrade_choice"`
	GroupNext     uint16        `json:"group_next"`
	Role          Role          `json:"role"`
	Types         []TypeReport  `json:"types"`
	Interrupted   *Interrupted  `json:"interrupted,omitempty"`
	LastPurged    *Interrupted  `json:"last_purged,omitempty"`
	Damage        []string      `json:"damage,omitempty"`
	Findings      []Finding     `json:"findings,omitempty"` // Damage as found at Open, structured
	Verified      bool          `json:"verified"`           // chunks were read and checked
	BadChunks     []ChunkReport `json:"bad_chunks,omitempty"`
}

// RecordInfo locates one journal record.
type RecordInfo struct {
	Kind string `json:"kind"`
	Seq  uint64 `json:"seq"`
	Off  int64  `json:"off"`  // chip offset
	Size int64  `json:"size"` // bytes on flash, padded to the slot
}

// TypeReport is one type of the committed generation.
type TypeReport struct {
	Type   uint8  `json:"type"`
	Size   int64  `json:"size"`
	Seq    uint64 `json:"seq"`
	Phase  uint32 `json:"phase"`
	Digest string `json:"digest"`
	Chunks int    `json:"chunks"`
}

// ChunkReport is a committed chunk that failed verification.
type ChunkReport struct {
	Type  uint8  `json:"type"`
	Index int    `json:"index"`
	Block uint32 `json:"block"`
	Error string `json:"error"`
}

// Inspect decodes the store in [off, off+size) of f without writing: the
// committed generation, its configuration, role and types, any interrupted
// round, damage found. With verify it also reads every committed chunk and
// checks its digest. An unreadable store returns an error saying why.
func Inspect(f hal.Flash, off, size int64, verify bool) (*Report, error) {
	s, err := Open(f, off, size, Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	return s.Report(verify), nil
}

// Report describes the open store (see Inspect).
func (s *Store) Report(verify bool) *Report {
	st := &s.committed
	r := &Report{Superblock: s.layout, Generation: st.Generation, Time: st.Time, NextSync: st.NextSync,
		Config: st.Config.clone(), ImageVersion: st.ImageVersion, UpgradeChoice: st.UpgradeChoice,
		GroupNext: st.GroupNext, Role: st.Role, Interrupted: s.Interrupted(), LastPurged: s.LastPurged(),
		Damage: s.Damage(), Findings: s.Findings()}
	r.Journal.Area, r.Journal.Epoch, r.Journal.Records = s.area, s.epoch, s.recordCount
	r.Journal.Tail = s.areaOff(s.area) + s.tailBlock*s.eraseSize + s.tailOffset
	r.Journal.Torn = s.torn
	for _, x := range s.log {
		r.Journal.Log = append(r.Journal.Log, RecordInfo{Kind: kindName(x.kind), Seq: x.seq, Off: x.off, Size: x.size})
	}
	if c, ok := s.Staged(); ok {
		r.Staged = &c
	}
	for _, t := range st.Types {
		r.Types = append(r.Types, TypeReport{Type: t.Type, Size: t.Size, Seq: t.Seq, Phase: t.Phase, Digest: t.Digest.String(), Chunks: len(t.Chunks)})
	}
	if verify {
		r.Verified = true
		for _, b := range s.VerifyChunks() {
			r.BadChunks = append(r.BadChunks, ChunkReport{Type: b.Type, Index: b.Index, Block: b.Block, Error: b.Err.Error()})
			r.Damage = append(r.Damage, fmt.Sprintf("type %d chunk %d (data block %d) fails its digest", b.Type, b.Index, b.Block))
		}
	}
	return r
}
