package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/qemu/vm"
	"github.com/cmcsync/cmcsync/source/ipmi/fru"
	"github.com/cmcsync/cmcsync/source/ipmi/sel"
	"github.com/cmcsync/cmcsync/sync/info"
)

// collected is what the daemon scenario hands `cmcsync info collect` in
// the guest, as a CMC's services would leave it: the node event log as
// `ipmitool sel writeraw` saves it (raw 16-byte records) and the chassis
// FRU image (asset slot 0).
type collected struct {
	records []sel.Record
	selFile []byte
	fruFile []byte // as written by fru.Encode
	fruSlot []byte // the 256-byte slot the region holds
}

// newCollected makes the scenario's SEL and FRU inputs from the seed.
func newCollected(seed uint64) (*collected, error) {
	rng := mrand.New(mrand.NewPCG(seed, 0x5e1))
	c := &collected{}
	at := uint32(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC).Unix())
	for i := range 12 {
		at += 60 + uint32(rng.IntN(3600))
		r := sel.NewSystemEvent(uint16(0x100+i), at, sel.SystemEvent{
			GeneratorID: 0x20, EvMRev: sel.EvMRev, SensorType: []byte{0x01, 0x02, 0x04, 0x08}[rng.IntN(4)],
			SensorNumber: byte(rng.IntN(64)), EventDirType: 0x01,
			EventData: [3]byte{byte(rng.IntN(16)), byte(rng.IntN(256)), byte(rng.IntN(256))},
		})
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("scenario SEL record %d: %w", i, err)
		}
		c.records = append(c.records, r)
	}
	c.selFile = sel.AppendRaw(nil, c.records, sel.LayoutIpmitool)
	img := &fru.Image{
		Chassis: &fru.Chassis{Type: 0x17, PartNumber: fru.TextField("CMC-CH-2600"), SerialNumber: fru.TextField(fmt.Sprintf("CH%08d", rng.IntN(1e8)))},
		Board: &fru.Board{Language: fru.LanguageEnglish, MfgTime: time.Date(2026, 3, 14, 9, 26, 0, 0, time.UTC),
			Manufacturer: fru.TextField("cmcsync scenario"), ProductName: fru.TextField("CMC chassis board"),
			SerialNumber: fru.TextField(fmt.Sprintf("BRD%07d", rng.IntN(1e7))), PartNumber: fru.TextField("CMCB-2600")},
	}
	var err error
	if c.fruFile, err = fru.Encode(img); err != nil {
		return nil, fmt.Errorf("scenario FRU image: %w", err)
	}
	if c.fruSlot, err = fru.FitSlot(c.fruFile, info.FRUSize); err != nil {
		return nil, fmt.Errorf("scenario FRU image: %w", err)
	}
	return c, nil
}

// octal writes b as a printf format of octal escapes (busybox's printf
// has no other way to write any byte).
func octal(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		fmt.Fprintf(&s, "\\%03o", c)
	}
	return s.String()
}

// collectResult is one line of `cmcsync info collect --json`.
type collectResult struct {
	Type    string `json:"type"`
	File    string `json:"file"`
	Slot    int    `json:"slot"`
	Changed bool   `json:"changed"`
	Seq     uint64 `json:"seq"`
	Size    int    `json:"size"`
}

// collectInGuest writes the inputs into a folder of the guest and runs
// `cmcsync info collect` on the chips' MTD devices with the daemon's
// places (before the daemon starts: it holds the chips while it runs). It
// checks the command's own account: both types written.
func (r *daemonRun) collectInGuest(ctx context.Context, m *vm.Machine, pair string) error {
	e := r.e
	for _, cmd := range []string{
		"rm -rf /tmp/collect && mkdir -p /tmp/collect/asset",
		"printf '" + octal(r.inputs.selFile) + "' > /tmp/collect/event-log.sel",
		"printf '" + octal(r.inputs.fruFile) + "' > /tmp/collect/asset/0.bin",
	} {
		if _, err := e.run(ctx, m, cmd); err != nil {
			return err
		}
	}
	t0 := time.Now()
	out, err := e.run(ctx, m, "cmcsync info collect --dir /tmp/collect "+pair+" --json 2>/tmp/collect.err || { cat /tmp/collect.err; false; }")
	if err != nil {
		return fmt.Errorf("info collect in the guest: %w", err)
	}
	var res []collectResult
	i, j := strings.IndexByte(out, '['), strings.LastIndexByte(out, ']')
	if i < 0 || j < i {
		return fmt.Errorf("info collect in the guest: no JSON list in its output:\n%s", out)
	}
	if err := json.Unmarshal([]byte(out[i:j+1]), &res); err != nil {
		return fmt.Errorf("info collect in the guest: its --json output: %w:\n%s", err, out)
	}
	got := map[string]bool{}
	var lines []string
	for _, x := range res {
		got[x.Type] = x.Changed
		lines = append(lines, fmt.Sprintf("%s changed=%v seq %d, %d bytes", x.Type, x.Changed, x.Seq, x.Size))
	}
	e.rep.check("info collect in the guest", len(res) == 2 && got["event-log"] && got["asset"],
		"event-log (%d SEL records, %d bytes) and asset slot 0 (%d-byte FRU image) written on the primary's region in %v: %s",
		len(r.inputs.records), len(r.inputs.selFile), len(r.inputs.fruFile), Seconds(time.Since(t0)), strings.Join(lines, "; "))
	return nil
}

// checkCollected decodes the backup chip's store with the reference
// decoder after the last boot and checks that its committed copy holds
// what info collect wrote in the guest: the FRU image in asset slot 0
// and every SEL record in the event log (the simulated CMC only adds
// entries after them; its asset changes are about one a month).
func (r *daemonRun) checkCollected() []string {
	// The backup's store is the one holding the newest committed
	// generation: chip B's, or chip A's after a failover (rounds then
	// read chip B and write chip A's store).
	st := cmcPartNamed("cmc-store")
	var f *os.File
	var b *reference.Backup
	for _, path := range []string{r.e.backup, r.e.primary} {
		g, err := os.Open(path)
		if err != nil {
			return []string{err.Error()}
		}
		defer g.Close()
		d, err := reference.Decode(g, st.off, st.size)
		if err != nil {
			continue
		}
		if b == nil || d.Committed.Generation > b.Committed.Generation {
			f, b = g, d
		}
	}
	if b == nil {
		return []string{"reference decoder: neither chip's store decodes"}
	}
	var bad []string
	table := func(t info.Type) *info.Table {
		p, err := b.Payload(f, uint8(t))
		if err != nil {
			bad = append(bad, fmt.Sprintf("the backup's %v copy: %v", t, err))
			return nil
		}
		tb, err := info.DecodeTable(t, p)
		if err != nil {
			bad = append(bad, fmt.Sprintf("the backup's %v copy: %v", t, err))
			return nil
		}
		return tb
	}
	if tb := table(info.Asset); tb != nil && !bytes.Equal(tb.Fixed[:info.FRUSize], r.inputs.fruSlot) {
		bad = append(bad, fmt.Sprintf("the backup's asset slot 0 is not the FRU image collected in the guest (% x…)", tb.Fixed[:16]))
	}
	if tb := table(info.EventLog); tb != nil {
		for i, rec := range r.inputs.records {
			found := false
			for off := 0; off+len(rec) <= len(tb.Ring) && tb.EntrySize >= len(rec); off += tb.EntrySize {
				if bytes.Equal(tb.Ring[off:off+len(rec)], rec[:]) {
					found = true
					break
				}
			}
			if !found {
				bad = append(bad, fmt.Sprintf("the backup's event log lacks SEL record %d collected in the guest (%v)", i, rec))
			}
		}
	}
	return bad
}
