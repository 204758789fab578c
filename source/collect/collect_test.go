package collect_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/infotest"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/sim/simtest"
	"github.com/cmcsync/cmcsync/source/collect"
	"github.com/cmcsync/cmcsync/source/ipmi/fru"
	"github.com/cmcsync/cmcsync/source/ipmi/sel"
	"github.com/cmcsync/cmcsync/sync/info"
)

func region(t *testing.T) *info.Region {
	return infotest.Region(t, simtest.Chip(t, "w25q256jv", sim.Options{Size: 4 << 20}), 0, 1<<20)
}

func selRaw(n int) []byte {
	var b []byte
	for i := range n {
		r := sel.NewSystemEvent(uint16(i+1), 1700000000+uint32(i), sel.SystemEvent{GeneratorID: 0x20, EvMRev: 4, SensorType: 1, SensorNumber: 3, EventDirType: 1, EventData: [3]byte{0x57, 0xff, 0xff}})
		b = append(b, r[:]...)
	}
	return b
}

// powerPayload is the default power payload stamped with an update time:
// a valid payload that differs from the one a new region holds.
func powerPayload() []byte {
	p := info.Default(info.Power)
	p[20] = 1
	return p
}

func fruImage(t *testing.T) []byte {
	b, err := os.ReadFile("../ipmi/fru/testdata/basic-board.bin")
	require.NoError(t, err)
	return b
}

func TestPutInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		typ   info.Type
		input func(t *testing.T) []byte
		slot  int
		err   string
		check func(t *testing.T, p []byte)
	}{
		{name: "SEL raw records", typ: info.EventLog, input: func(*testing.T) []byte { return selRaw(3) }, check: func(t *testing.T, p []byte) {
			tb, err := info.DecodeTable(info.EventLog, p)
			require.NoError(t, err)
			require.Equal(t, uint32(3), tb.Count)
			require.Equal(t, selRaw(3), tb.Ring)
		}},
		{name: "SEL with a reserved record type", typ: info.EventLog, input: func(*testing.T) []byte { b := selRaw(2); b[16+2] = 0x05; return b }, err: "event-log: "},
		{name: "SEL of 15 bytes", typ: info.EventLog, input: func(*testing.T) []byte { return selRaw(1)[:15] }, err: "not a SEL file"},
		{name: "FRU into slot 17", typ: info.Asset, slot: 17, input: fruImage, check: func(t *testing.T, p []byte) {
			tb, err := info.DecodeTable(info.Asset, p)
			require.NoError(t, err)
			img, err := fru.FitSlot(fruImage(t), info.FRUSize)
			require.NoError(t, err)
			require.Equal(t, img, tb.Fixed[17*info.FRUSize:18*info.FRUSize])
		}},
		{name: "FRU with a bad checksum", typ: info.Asset, input: func(t *testing.T) []byte { b := fruImage(t); b[7] ^= 1; return b }, err: "not an IPMI FRU image"},
		{name: "FRU slot out of range", typ: info.Asset, slot: 23, input: fruImage, err: "asset slot 23"},
		{name: "a power payload table", typ: info.Power, input: func(*testing.T) []byte { return powerPayload() }, check: func(t *testing.T, p []byte) {
			require.Equal(t, powerPayload(), p)
		}},
		{name: "a fan payload given as power", typ: info.Power, input: func(*testing.T) []byte { return info.Default(info.Fan) }, err: "takes a payload in the region's table format"},
		{name: "an empty power input", typ: info.Power, input: func(*testing.T) []byte { return nil }, err: "the input is empty (0 bytes)"},
		{name: "JSON for power", typ: info.Power, input: func(*testing.T) []byte { return []byte(`{"psu": []}`) }, err: "takes a payload"},
		{name: "a truncated node payload", typ: info.Node, input: func(*testing.T) []byte { return info.Default(info.Node)[:100] }, err: "node payload"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := region(t)
			before, _ := r.Read(tc.typ)
			changed, err := collect.PutInput(r, tc.typ, tc.input(t), collect.Options{Slot: tc.slot})
			if tc.err != "" {
				require.ErrorIs(t, err, collect.ErrInput)
				require.ErrorContains(t, err, tc.err)
				after, _ := r.Read(tc.typ)
				require.Equal(t, before, after, "nothing written")
				return
			}
			require.NoError(t, err)
			require.True(t, changed)
			rec, err := r.Read(tc.typ)
			require.NoError(t, err)
			tc.check(t, rec.Payload)
			changed, err = collect.PutInput(r, tc.typ, tc.input(t), collect.Options{Slot: tc.slot})
			require.NoError(t, err)
			require.False(t, changed, "the same input again writes nothing")
			again, err := r.Read(tc.typ)
			require.NoError(t, err)
			require.Equal(t, rec.Seq, again.Seq)
		})
	}
}

func TestCollect(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "event-log.sel"), selRaw(5), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "power"), powerPayload(), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README"), []byte("not information"), 0o600))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "asset"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "asset", "0.bin"), fruImage(t), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "asset", "5.fru"), fruImage(t), 0o600))
	r := region(t)
	res, err := collect.Collect(r, dir, collect.Options{})
	require.NoError(t, err)
	require.Len(t, res, 4)
	changed := 0
	for _, x := range res {
		if x.Changed {
			changed++
		}
	}
	require.Equal(t, 3, changed, "asset written once, with both slots")
	rec, err := r.Read(info.Asset)
	require.NoError(t, err)
	img, err := fru.FitSlot(fruImage(t), info.FRUSize)
	require.NoError(t, err)
	require.Equal(t, img, rec.Payload[info.PayloadHeaderSize+5*info.FRUSize:][:info.FRUSize])

	res, err = collect.Collect(r, dir, collect.Options{})
	require.NoError(t, err)
	for _, x := range res {
		require.False(t, x.Changed, "%v unchanged", x.Type)
	}

	// One bad file: nothing is written.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "node.bin"), []byte("garbage"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "event-log.sel"), selRaw(6), 0o600))
	before, err := r.Read(info.EventLog)
	require.NoError(t, err)
	_, err = collect.Collect(r, dir, collect.Options{})
	require.ErrorIs(t, err, collect.ErrInput)
	require.ErrorContains(t, err, "node.bin")
	after, err := r.Read(info.EventLog)
	require.NoError(t, err)
	require.Equal(t, before.Seq, after.Seq)
}

// TestEmptyInput: an empty input (0 bytes; for the event log also a SEL
// text without a record) is refused for every type, wrapping ErrEmpty,
// and leaves the stored record as it was; AllowEmpty lets it clear the
// event log only.
func TestEmptyInput(t *testing.T) {
	for _, tc := range []struct {
		name       string
		typ        info.Type
		input      []byte
		allowEmpty bool
		err        string // "": the put clears the event log
	}{
		{name: "event-log, 0 bytes", typ: info.EventLog, err: "event-log: the input is empty (0 bytes)"},
		{name: "event-log, comments only", typ: info.EventLog, input: []byte("# exported by sel-dump\n\n"), err: "the input holds no SEL record (24 bytes of blank lines and comments)"},
		{name: "event-log, 0 bytes, allowed", typ: info.EventLog, allowEmpty: true},
		{name: "event-log, comments only, allowed", typ: info.EventLog, input: []byte("\n# none\n"), allowEmpty: true},
		{name: "asset, 0 bytes", typ: info.Asset, err: "asset: the input is empty (0 bytes)"},
		{name: "asset, 0 bytes, allowed", typ: info.Asset, allowEmpty: true, err: "an empty input clears only the event log"},
		{name: "power, 0 bytes", typ: info.Power, err: "power: the input is empty (0 bytes)"},
		{name: "fault-log, 0 bytes, allowed", typ: info.FaultLog, allowEmpty: true, err: "fault-log takes a payload in the region's table format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := region(t)
			// A stored record the empty input would replace.
			var full []byte
			switch tc.typ {
			case info.EventLog:
				full = selRaw(3)
			case info.Asset:
				full = fruImage(t)
			default:
				full = info.Default(tc.typ)
				full[20] = 1
			}
			changed, err := collect.PutInput(r, tc.typ, full, collect.Options{})
			require.NoError(t, err)
			require.True(t, changed)
			before, err := r.Read(tc.typ)
			require.NoError(t, err)

			changed, err = collect.PutInput(r, tc.typ, tc.input, collect.Options{AllowEmpty: tc.allowEmpty})
			after, rerr := r.Read(tc.typ)
			require.NoError(t, rerr)
			if tc.err != "" {
				require.ErrorIs(t, err, collect.ErrInput)
				require.ErrorIs(t, err, collect.ErrEmpty)
				require.ErrorContains(t, err, tc.err)
				require.False(t, changed)
				require.Equal(t, before, after, "nothing written")
				return
			}
			require.NoError(t, err)
			require.True(t, changed)
			tb, err := info.DecodeTable(info.EventLog, after.Payload)
			require.NoError(t, err)
			require.Zero(t, tb.Count, "the event log is cleared")
		})
	}

	// info collect: an empty event-log file among good ones writes nothing.
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "power"), powerPayload(), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "event-log.sel"), nil, 0o600))
	r := region(t)
	_, err := collect.PutInput(r, info.EventLog, selRaw(4), collect.Options{})
	require.NoError(t, err)
	beforeLog, _ := r.Read(info.EventLog)
	beforePower, _ := r.Read(info.Power)
	_, err = collect.Collect(r, dir, collect.Options{})
	require.ErrorIs(t, err, collect.ErrEmpty)
	require.ErrorContains(t, err, "event-log.sel: ")
	afterLog, _ := r.Read(info.EventLog)
	afterPower, _ := r.Read(info.Power)
	require.Equal(t, beforeLog, afterLog)
	require.Equal(t, beforePower, afterPower)
	res, err := collect.Collect(r, dir, collect.Options{AllowEmpty: true})
	require.NoError(t, err)
	require.Len(t, res, 2)
}

// TestIgnored: the entries Collect passes over, named so that a misnamed
// file is said; hidden files and the information files are not listed.
func TestIgnored(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"power.bin", "event-log.sel", "powr.bin", "notes.txt", ".hidden", "Fan.bin"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, "asset"), 0o700))
	got, err := collect.Ignored(dir)
	require.NoError(t, err)
	require.Equal(t, []string{"Fan.bin", "notes.txt", "powr.bin"}, got)
	_, err = collect.Ignored(filepath.Join(dir, "nope"))
	require.ErrorIs(t, err, collect.ErrInput)
}
