package jsonout

import (
	"fmt"
	"time"

	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/sync/store"
)

// Place is a range of a chip, in bytes.
type Place struct {
	Offset int64 `json:"offset"`
	Size   int64 `json:"size"`
}

// Layout places the image area, the information region and the store.
type Layout struct {
	Image Place `json:"image"`
	Info  Place `json:"info"`
	Store Place `json:"store"`
}

// FromLayout converts an engine layout.
func FromLayout(l engine.Layout) Layout {
	return Layout{Image: Place{l.ImageOff, l.ImageSize}, Info: Place{l.InfoOff, l.InfoSize}, Store: Place{l.StoreOff, l.StoreSize}}
}

// Image is a firmware image header.
type Image struct {
	Version string    `json:"version"`
	Size    int64     `json:"size"`
	CRC     uint32    `json:"crc"`
	Built   time.Time `json:"built"`
}

// InfoType is one type of a chip's information region.
type InfoType struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	Seq    uint64 `json:"seq"`
	Digest string `json:"digest,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Superblock is a store's superblock.
type Superblock struct {
	Version       uint32    `json:"version"`
	ChipID        uint8     `json:"chip_id"`
	PairID        string    `json:"pair_id"` // hex, as reseed --json: 64 bits do not survive a JSON number in jq or JavaScript
	StoreSize     int64     `json:"store_size"`
	EraseSize     int64     `json:"erase_size"`
	SlotSize      int64     `json:"slot_size"`
	JournalBlocks uint32    `json:"journal_blocks"`
	Journal       [2]uint32 `json:"journal_first_blocks"`
	DataFirst     uint32    `json:"data_first_block"`
	DataBlocks    uint32    `json:"data_blocks"`
	MaxChunks     uint32    `json:"max_chunks"`
	Formatted     time.Time `json:"formatted"`
}

// SuperblockCopy is one of a store's two superblock copies: its state
// (valid, erased, format-intent, invalid, unread), the superblock or
// format intent it holds, or why it is not valid.
type SuperblockCopy struct {
	Offset     int64       `json:"offset"`
	State      string      `json:"state"`
	Superblock *Superblock `json:"superblock,omitempty"`
	Error      string      `json:"error,omitempty"`
}

// SuperblockCopies are a store's two superblock copies, the one inspect
// used and why; as_chip, when the valid copies differ in chip id, the
// copy the engine uses on chip A and on chip B (docs/FORMAT.md 4.4).
type SuperblockCopies struct {
	Copies [2]SuperblockCopy `json:"copies"`
	Used   int               `json:"used"`
	Why    string            `json:"why"`
	AsChip *[2]int           `json:"as_chip,omitempty"`
}

func fromSuperblock(sb store.Superblock) Superblock {
	return Superblock{Version: sb.Version, ChipID: sb.ChipID, PairID: fmt.Sprintf("%#x", sb.PairID), StoreSize: sb.StoreSize, EraseSize: sb.EraseSize,
		SlotSize: sb.SlotSize, JournalBlocks: sb.JournalBlocks, Journal: sb.Journal, DataFirst: sb.DataFirst, DataBlocks: sb.DataBlocks,
		MaxChunks: sb.MaxChunks, Formatted: sb.Formatted}
}

func fromCopies(c store.SuperblockCopies) SuperblockCopies {
	out := SuperblockCopies{Used: c.Used, Why: c.Why, AsChip: c.AsChip}
	for i, cp := range c.Copies {
		out.Copies[i] = SuperblockCopy{Offset: cp.Off, State: string(cp.State), Error: cp.Error}
		if cp.Superblock != nil {
			sb := fromSuperblock(*cp.Superblock)
			out.Copies[i].Superblock = &sb
		}
	}
	return out
}

// Journal is the journal area in use.
type Journal struct {
	Area    int      `json:"area"`
	Epoch   uint64   `json:"epoch"`
	Records int      `json:"records"`
	Tail    int64    `json:"tail"`
	Torn    bool     `json:"torn"`
	Log     []Record `json:"log"`
}

// Record locates one journal record.
type Record struct {
	Kind   string `json:"kind"`
	Seq    uint64 `json:"seq"`
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
}

// Role says which chip's image is active.
type Role struct {
	Epoch          uint64 `json:"epoch"`
	ActiveChip     uint8  `json:"active_chip"`
	RestorePending bool   `json:"restore_pending"`
}

// StoreType is one type of the committed generation.
type StoreType struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	Seq    uint64 `json:"seq"`
	Phase  uint32 `json:"phase"`
	Digest string `json:"digest"`
	Chunks int    `json:"chunks"`
}

// Round is an interrupted (or the last purged) round.
type RoundBlocks struct {
	Generation uint64   `json:"generation"`
	Blocks     []uint32 `json:"blocks"`
	Complete   bool     `json:"complete"`
	Purged     bool     `json:"purged"`
}

// Store is a decoded backup store.
type Store struct {
	Superblock       Superblock       `json:"superblock"`
	SuperblockCopies SuperblockCopies `json:"superblock_copies"`
	Journal          Journal          `json:"journal"`
	Generation       uint64           `json:"generation"`
	Time             time.Time        `json:"time,omitzero"`      // left out before the first commit
	NextSync         time.Time        `json:"next_sync,omitzero"` // left out before the first commit
	Config           Config           `json:"config"`
	Staged           *Config          `json:"staged_config,omitempty"`
	ImageVersion     string           `json:"image_version"`
	UpgradeChoice    string           `json:"upgrade_choice"`
	Role             Role             `json:"role"`
	Types            []StoreType      `json:"types"`
	Interrupted      *RoundBlocks     `json:"interrupted,omitempty"`
	LastPurged       *RoundBlocks     `json:"last_purged,omitempty"`
	Damage           []string         `json:"damage,omitempty"`
	Verified         bool             `json:"verified"`
	BadChunks        []Chunk          `json:"bad_chunks,omitempty"`
}

// Inspection is a read-only decoding of one chip.
type Inspection struct {
	Device     string     `json:"device"`
	Geometry   string     `json:"geometry"`
	Layout     Layout     `json:"layout"`
	Image      *Image     `json:"image,omitempty"`
	ImageError string     `json:"image_error,omitempty"`
	Info       []InfoType `json:"info,omitempty"`
	InfoError  string     `json:"info_error,omitempty"`
	Store      *Store     `json:"store,omitempty"`
	StoreError string     `json:"store_error,omitempty"`
}

func roundBlocks(in *store.Interrupted) *RoundBlocks {
	if in == nil {
		return nil
	}
	return &RoundBlocks{Generation: in.Generation, Blocks: in.Blocks, Complete: in.Complete, Purged: in.Purged}
}

// FromInspection converts an engine inspection.
func FromInspection(in engine.Inspection) Inspection {
	out := Inspection{Device: in.Device, Geometry: in.Geometry, Layout: FromLayout(in.Layout), ImageError: in.ImageError,
		InfoError: in.InfoError, StoreError: in.StoreError}
	if h := in.Image; h != nil {
		out.Image = &Image{Version: h.Version, Size: h.Size, CRC: h.CRC, Built: h.Built}
	}
	for _, t := range in.Info {
		out.Info = append(out.Info, InfoType{Name: t.Name, Size: t.Size, Seq: t.Seq, Digest: t.Digest, Error: t.Error})
	}
	if s := in.Store; s != nil {
		sb := s.Superblock
		st := &Store{
			Superblock:       fromSuperblock(sb),
			SuperblockCopies: fromCopies(s.Copies),
			Journal:          Journal{Area: s.Journal.Area, Epoch: s.Journal.Epoch, Records: s.Journal.Records, Tail: s.Journal.Tail, Torn: s.Journal.Torn},
			Generation:       s.Generation, Time: s.Time, NextSync: s.NextSync, Config: FromStoreConfig(s.Config),
			ImageVersion: s.ImageVersion, UpgradeChoice: engine.UpgradeChoice(s.UpgradeChoice).String(),
			Role:        Role{Epoch: s.Role.Epoch, ActiveChip: s.Role.Active, RestorePending: s.Role.RestorePending},
			Interrupted: roundBlocks(s.Interrupted), LastPurged: roundBlocks(s.LastPurged),
			Damage: s.Damage, Verified: s.Verified, BadChunks: chunks(s.BadChunks),
			Types: []StoreType{}, // [] before the first commit, not null
		}
		if s.Staged != nil {
			c := FromStoreConfig(*s.Staged)
			st.Staged = &c
		}
		for _, r := range s.Journal.Log {
			st.Journal.Log = append(st.Journal.Log, Record{Kind: r.Kind, Seq: r.Seq, Offset: r.Off, Size: r.Size})
		}
		for _, t := range s.Types {
			st.Types = append(st.Types, StoreType{Name: info.Type(t.Type).String(), Size: t.Size, Seq: t.Seq, Phase: t.Phase, Digest: t.Digest, Chunks: t.Chunks})
		}
		out.Store = st
	}
	return out
}
