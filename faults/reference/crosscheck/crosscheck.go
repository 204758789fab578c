// Package crosscheck compares the reference decoder's reading of a backup
// store (faults/reference) with the store's own reader's (sync/store,
// read-only): the independent-oracle cross-check. The oracle judges with
// the reference decoder alone; tests run this comparison on the stores
// they produce so that a disagreement (a bug in one reader, or in
// docs/FORMAT.md) cannot hide.
//
// It is a test helper: only tests import it (the oracle never decodes with
// sync/store).
package crosscheck

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/store"
)

// Read decodes the store in [off, off+size) of chip with both readers.
func Read(chip hal.Flash, off, size int64) (*reference.Backup, *store.Store, error) {
	ref, err := reference.Decode(chip, off, size)
	if err != nil {
		return nil, nil, fmt.Errorf("reference: %w", err)
	}
	st, err := store.Open(chip, off, size, store.Options{ReadOnly: true})
	if err != nil {
		return ref, nil, fmt.Errorf("store: %w", err)
	}
	return ref, st, nil
}

// Agree reads chip with both readers and returns how they differ on
// everything both expose (State) and on whether the store is damaged
// (Damage); nil if they agree.
func Agree(chip hal.Flash, off, size int64) (*reference.Backup, []string, error) {
	ref, st, err := Read(chip, off, size)
	if err != nil {
		return ref, nil, err
	}
	return ref, append(State(ref, st), Damage(ref, st)...), nil
}

// differences collects what two readings disagree on.
type differences []string

func (d *differences) add(format string, args ...any) { *d = append(*d, fmt.Sprintf(format, args...)) }

// same notes a difference if want and got are not deeply equal.
func (d *differences) same(what string, want, got any) {
	if !reflect.DeepEqual(want, got) {
		d.add("%s: store %+v, reference %+v", what, want, got)
	}
}

// State compares everything both readers expose: the superblock, the area
// in charge and its epoch, the journal's records, the committed state
// (head, role, configuration, every type's metadata, chunk map and
// digests), the staged configuration, and the pending and last purged
// intents (with the pending blocks).
func State(ref *reference.Backup, st *store.Store) []string {
	var d differences
	rep := st.Report(false)
	sb, rsb := st.Superblock(), ref.Superblock
	d.same("superblock", sb, store.Superblock{
		Version: rsb.FormatVersion, ChipID: rsb.ChipID, Kind: rsb.FlashKind, PairID: rsb.PairID, StoreSize: rsb.StoreSize,
		EraseSize: rsb.EraseSize, SlotSize: rsb.SlotSize, JournalBlocks: rsb.JournalBlocks, Journal: rsb.JournalFirst,
		DataFirst: rsb.DataFirst, DataBlocks: rsb.DataBlocks, MaxChunks: rsb.MaxChunks, Formatted: sb.Formatted})
	if !sb.Formatted.Equal(rsb.Formatted) {
		d.add("superblock format time: store %v, reference %v", sb.Formatted, rsb.Formatted)
	}
	d.same("area in charge", rep.Journal.Area, ref.Area)
	d.same("epoch", rep.Journal.Epoch, ref.Epoch)
	if !ref.Damaged() {
		d = append(d, tornAgree(rep.Journal.Torn, ref)...)
	}
	var log []store.RecordInfo
	for _, r := range ref.Journal {
		log = append(log, store.RecordInfo{Kind: r.Kind.String(), Seq: r.Seq, Off: r.Off, Size: r.Size})
	}
	d.same("journal records", rep.Journal.Log, log)

	s := st.State()
	headsAgree(&d, s, ref.Committed.Head)
	d.same("committed configuration", s.Config, StoreConfig(ref.Committed.Config))
	staged, ok := st.Staged()
	switch {
	case ok != (ref.Staged != nil):
		d.add("staged configuration: store has one %v, reference %v", ok, ref.Staged != nil)
	case ok:
		d.same("staged configuration", staged, StoreConfig(*ref.Staged))
	}
	typesAgree(&d, s.Types, ref.Committed.Types)
	intentsAgree(&d, "pending", st.Interrupted(), ref.Pending, ref.BlocksOfPending())
	intentsAgree(&d, "last purged", st.LastPurged(), ref.LastPurged, nil)
	return d
}

// Damage compares the verdicts on damage: the store reports damage exactly
// when the reference finds some. A compaction cut before its
// checkpoint-end is power loss to the reference (docs/FORMAT.md, 4.9) and
// damage to the store; the verdicts are not compared then.
func Damage(ref *reference.Backup, st *store.Store) []string {
	cut := slices.ContainsFunc(ref.Findings, func(f reference.Finding) bool { return f.Kind == reference.CheckpointIncomplete })
	if cut && !ref.Damaged() {
		return nil
	}
	if got := len(st.Damage()) > 0; got != ref.Damaged() {
		return []string{fmt.Sprintf("damage: store %q, reference findings %v", st.Damage(), ref.Findings)}
	}
	return nil
}

func headsAgree(d *differences, s store.State, h reference.Head) {
	d.same("generation", s.Generation, h.Generation)
	if !s.Time.Equal(h.Committed) {
		d.add("committed time: store %v, reference %v", s.Time, h.Committed)
	}
	if !s.NextSync.Equal(h.NextSync) {
		d.add("next sync: store %v, reference %v", s.NextSync, h.NextSync)
	}
	d.same("image version", s.ImageVersion, h.ImageVersion)
	d.same("upgrade choice", s.UpgradeChoice, h.UpgradeChoice)
	d.same("group next", s.GroupNext, h.GroupNext)
	d.same("role", s.Role, store.Role{Epoch: h.Role.Epoch, Active: h.Role.Active, RestorePending: h.Role.RestorePending})
}

func typesAgree(d *differences, want []store.TypeState, got []reference.TypeState) {
	if len(want) != len(got) {
		d.add("types: store %d, reference %d", len(want), len(got))
		return
	}
	for i, w := range want {
		g := got[i]
		d.same(fmt.Sprintf("type %d metadata", w.Type), []any{w.Type, w.Phase, w.Size, w.Seq, [32]byte(w.Digest)},
			[]any{g.Type, g.Phase, g.Size, g.Seq, [32]byte(g.Digest)})
		chunks := make([]reference.Chunk, len(w.Chunks))
		for k, c := range w.Chunks {
			chunks[k] = reference.Chunk{Block: c.Block, Check: c.Check, Digest: reference.Digest(c.Digest)}
			for _, d := range c.Deltas {
				chunks[k].Deltas = append(chunks[k].Deltas, reference.DeltaRef{Block: d.Block, Off: d.Off, Len: d.Len})
			}
		}
		if !slices.EqualFunc(chunks, g.Chunks, func(a, b reference.Chunk) bool {
			return a.Block == b.Block && a.Check == b.Check && a.Digest == b.Digest && slices.Equal(a.Deltas, b.Deltas)
		}) {
			d.add("type %d chunk map differs (store %d chunks, reference %d)", w.Type, len(chunks), len(g.Chunks))
		}
	}
}

// StoreConfig converts a reference configuration to the store's.
func StoreConfig(c reference.Config) store.Config {
	return store.Config{Types: c.Types, Interval: c.Interval, Threshold: c.Threshold,
		Verify: c.Verify, GroupSize: int(c.GroupSize), RetryAtOnce: c.RetryAtOnce}
}

// intentsAgree compares the store's interrupted (or last purged) round
// with the reference's intent; blocks, if not nil, are the reference's
// pending blocks.
func intentsAgree(d *differences, what string, want *store.Interrupted, got *reference.Intent, blocks []uint32) {
	if (want != nil) != (got != nil) {
		d.add("%s intent: store has one %v, reference %v", what, want != nil, got != nil)
		return
	}
	if want == nil {
		return
	}
	d.same(what+" generation", want.Generation, got.Generation)
	d.same(what+" intent seq", want.IntentSeq, got.Seq)
	d.same(what+" complete", want.Complete, got.Complete())
	d.same(what+" configuration", want.Config, StoreConfig(got.Config))
	entries := make([]store.IntentEntry, 0, len(got.Entries))
	for _, e := range got.Entries {
		entries = append(entries, store.IntentEntry{Type: e.Type, Index: e.Index, Block: e.Block, Check: e.Check, Digest: store.Digest(e.Digest)})
	}
	d.same(what+" entries", append([]store.IntentEntry{}, want.Entries...), entries)
	if blocks != nil {
		wb := slices.Clone(want.Blocks)
		slices.Sort(wb)
		d.same(what+" blocks", slices.Compact(wb), blocks)
	}
}

// tornAgree compares the torn-tail verdicts. The two readers place "the
// very end" (docs/FORMAT.md, 4.6 step 3) differently: the store calls the
// journal torn when the rest of its last block is not erased; the
// reference also when the block after it starts with an invalid record (a
// power cut while the first record of a new block was programmed).
func tornAgree(storeTorn bool, ref *reference.Backup) []string {
	if storeTorn == ref.Torn {
		return nil
	}
	if storeTorn {
		return []string{fmt.Sprintf("the store reports a torn tail, the reference none; findings %v", ref.Findings)}
	}
	i := slices.IndexFunc(ref.Findings, func(f reference.Finding) bool { return f.Kind == reference.TornTail })
	if i < 0 {
		return []string{"the reference reports a torn tail without a torn-tail finding"}
	}
	if (ref.Findings[i].Off-ref.StoreOff)%ref.Superblock.EraseSize != 0 {
		return []string{fmt.Sprintf("the reference's torn tail is not at the start of a block: %v", ref.Findings[i])}
	}
	return nil
}
