package collect

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/cmcsync/cmcsync/source/ipmi/fru"
	"github.com/cmcsync/cmcsync/source/ipmi/sel"
	"github.com/cmcsync/cmcsync/sync/info"
)

// ErrInput is wrapped by every error about an input that does not decode.
// Its words are not in the error's text, which says what is wrong with the
// input: a caller names the fault once (see inputError).
var ErrInput = errors.New("bad information input")

// ErrEmpty is wrapped (with ErrInput) by the error about an empty input:
// 0 bytes, or for the event log a SEL file without a record (blank lines
// and comments only), as an export that failed upstream leaves it.
// Written, it would clear the record; Options.AllowEmpty lets an empty
// SEL file clear the event log on purpose. Its words are not in the
// error's text either.
var ErrEmpty = errors.New("empty information input")

// Options tune Payload.
type Options struct {
	// Slot is the asset slot a FRU image goes to (0: the chassis).
	Slot int
	// SELLayout is a raw SEL file's layout: sel.LayoutIPMI (the zero
	// value) or sel.LayoutIpmitool (`ipmitool sel writeraw` files; they
	// differ in OEM records' manufacturer ID only).
	SELLayout sel.Layout
	// AllowEmpty lets an empty event-log input (0 bytes, or a SEL file
	// without a record) clear the event log: its ring is emptied, the SEL
	// info section kept. Without it such an input is refused (ErrEmpty),
	// as is an empty input of every other type, with or without it.
	AllowEmpty bool
}

// Payload converts input into type t's payload. current is the payload
// stored now (nil if none: the type's default is used) and capacity the
// largest payload t's extent holds (info.Region.Capacity).
func Payload(t info.Type, input, current []byte, capacity int, o Options) ([]byte, error) {
	if !t.Valid() {
		return nil, inputErrorf("unknown information type %d", uint8(t))
	}
	if err := CheckEmpty(t, input, o); err != nil {
		return nil, err
	}
	if len(input) >= info.PayloadHeaderSize && info.Type(input[0]) == t {
		if _, err := info.DecodeTable(t, input); err == nil {
			return bytes.Clone(input), nil
		} else if t != info.EventLog && t != info.Asset {
			return nil, inputErrorf("%v payload: %v", t, err)
		}
	}
	switch t {
	case info.EventLog:
		return selPayload(input, current, capacity, o)
	case info.Asset:
		return fruPayload(input, current, o)
	}
	return nil, inputErrorf("%v takes a payload in the region's table format (as cmcsync info get prints it); the input is not one", t)
}

// CheckEmpty returns the error (wrapping ErrInput and ErrEmpty) Payload
// gives for an empty input of type t: 0 bytes, or for the event log a SEL
// file without a record, unless o.AllowEmpty (event log only). A caller
// checks it before it opens anything; Payload checks it again.
func CheckEmpty(t info.Type, input []byte, o Options) error {
	what := "the input is empty (0 bytes)"
	switch {
	case len(input) == 0:
	case t == info.EventLog:
		recs, _, err := sel.Parse(input, o.SELLayout)
		if err != nil || len(recs) > 0 {
			return nil
		}
		what = fmt.Sprintf("the input holds no SEL record (%d bytes of blank lines and comments)", len(input))
	default:
		return nil
	}
	if t == info.EventLog && o.AllowEmpty {
		return nil
	}
	return emptyErrorf("%v: %s, as an export that failed leaves it; %s", t, what, expected(t))
}

// expected says what type t takes, for the error about an empty input.
func expected(t info.Type) string {
	switch t {
	case info.EventLog:
		return "it would clear the event log" // the caller says how to allow it (a flag, an API field)
	case info.Asset:
		return "asset takes an IPMI FRU image for one slot (an empty input clears only the event log, when allowed)"
	}
	return fmt.Sprintf("%v takes a payload in the region's table format, as cmcsync info get prints it (an empty input clears only the event log, when allowed)", t)
}

// base returns current decoded, or a new table of type t sized for
// capacity.
func base(t info.Type, current []byte, capacity int) *info.Table {
	if current != nil {
		if tb, err := info.DecodeTable(t, bytes.Clone(current)); err == nil {
			return tb
		}
	}
	return info.NewTable(t, info.RingSlots(t, capacity))
}

func selPayload(input, current []byte, capacity int, o Options) ([]byte, error) {
	layout := o.SELLayout
	recs, _, err := sel.Parse(input, layout)
	if err != nil {
		return nil, inputErrorf("event-log: not a SEL file (raw 16-byte IPMI records or ipmitool's text): %v", err)
	}
	for i, r := range recs {
		if err := r.Validate(); err != nil {
			return nil, inputErrorf("event-log: record %d: %v", i, err)
		}
	}
	old := base(info.EventLog, current, capacity)
	slots := info.RingSlots(info.EventLog, capacity)
	if slots == 0 {
		return nil, inputErrorf("event-log: the region has no room for SEL entries")
	}
	tb := info.NewTable(info.EventLog, slots)
	copy(tb.Fixed, old.Fixed) // the SEL info section
	tb.Updated = old.Updated
	for _, r := range recs {
		tb.Add(r[:]) // the newest that fit stay
	}
	return tb.Encode(), nil
}

func fruPayload(input, current []byte, o Options) ([]byte, error) {
	if o.Slot < 0 || o.Slot >= info.NumFRUs {
		return nil, inputErrorf("asset slot %d: want 0 (chassis), 1–%d (nodes) or %d–%d (PSUs)", o.Slot, info.NumNodes, info.NumNodes+1, info.NumFRUs-1)
	}
	img, err := fru.FitSlot(input, info.FRUSize)
	if err != nil {
		return nil, inputErrorf("asset: not an IPMI FRU image that fits a %d-byte slot: %v", info.FRUSize, err)
	}
	tb := base(info.Asset, current, 0)
	copy(tb.Fixed[o.Slot*info.FRUSize:(o.Slot+1)*info.FRUSize], img)
	return tb.Encode(), nil
}

// Put writes payload as t's record of r unless the stored record holds it
// already; it reports whether it wrote.
func Put(r *info.Region, t info.Type, payload []byte) (bool, error) {
	if rec, err := r.Read(t); err == nil && bytes.Equal(rec.Payload, payload) {
		return false, nil
	}
	if err := r.Write(t, payload); err != nil {
		return false, fmt.Errorf("write %v: %w", t, err)
	}
	return true, nil
}

// PutInput converts input (Payload) against t's stored record and writes
// it if it changed.
func PutInput(r *info.Region, t info.Type, input []byte, o Options) (bool, error) {
	var current []byte
	if rec, err := r.Read(t); err == nil {
		current = rec.Payload
	}
	p, err := Payload(t, input, current, r.Capacity(t), o)
	if err != nil {
		return false, err
	}
	return Put(r, t, p)
}

// Result is what Collect did with one file.
type Result struct {
	Type    info.Type
	File    string
	Slot    int // asset: the slot
	Changed bool
}

// Collect reads a directory of information files, as a CMC's services
// leave them, and writes each changed type: a file named after the type
// (power, fan, node, event-log, fault-log, asset; with any extension, e.g.
// event-log.sel), and for asset also a folder asset/ of FRU images named
// by slot (0.bin, 17.fru). Every file is converted first; one that does
// not decode or cannot be read is an error wrapping ErrInput and nothing
// is written. Types without a file are left as they are.
func Collect(r *info.Region, dir string, o Options) ([]Result, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, inputErrorf("%w", err)
	}
	type job struct {
		res     Result
		payload []byte
	}
	var jobs []job
	current := map[info.Type][]byte{}
	for _, t := range info.All() {
		if rec, err := r.Read(t); err == nil {
			current[t] = rec.Payload
		}
	}
	seen := map[info.Type]string{}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		t, err := info.ParseType(name)
		if err != nil || name != t.String() {
			continue // not an information file
		}
		path := filepath.Join(dir, e.Name())
		if e.IsDir() {
			if t != info.Asset {
				return nil, inputErrorf("%s: only asset/ may be a folder (of FRU images by slot)", path)
			}
			slots, err := slotFiles(path)
			if err != nil {
				return nil, err
			}
			for _, sf := range slots {
				b, err := os.ReadFile(sf.path)
				if err != nil {
					return nil, inputErrorf("%w", err)
				}
				so := o
				so.Slot = sf.slot
				p, err := Payload(t, b, current[t], r.Capacity(t), so)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", sf.path, err)
				}
				current[t] = p
				jobs = append(jobs, job{Result{Type: t, File: sf.path, Slot: sf.slot}, p})
			}
			continue
		}
		if prev, dup := seen[t]; dup {
			return nil, inputErrorf("%s and %s are both %v", prev, path, t)
		}
		seen[t] = path
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, inputErrorf("%w", err)
		}
		p, err := Payload(t, b, current[t], r.Capacity(t), o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		current[t] = p
		jobs = append(jobs, job{Result{Type: t, File: path, Slot: o.Slot}, p})
	}
	// Write each type once, with its last payload.
	last := map[info.Type]int{}
	for i, j := range jobs {
		last[j.res.Type] = i
	}
	var out []Result
	for i, j := range jobs {
		if last[j.res.Type] == i {
			changed, err := Put(r, j.res.Type, j.payload)
			if err != nil {
				return out, err
			}
			j.res.Changed = changed
		}
		out = append(out, j.res)
	}
	return out, nil
}

// Ignored lists the entries of dir that Collect passes over: names that
// are no information type's (a misspelt "powr.bin", another service's
// file), hidden files left out. The caller says so, so that a misnamed
// file is not a silent "nothing changed".
func Ignored(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, inputErrorf("%w", err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		name := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		if t, err := info.ParseType(name); err != nil || name != t.String() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

type slotFile struct {
	slot int
	path string
}

func slotFiles(dir string) ([]slotFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, inputErrorf("%w", err)
	}
	var out []slotFile
	for _, e := range entries {
		n := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		s, err := strconv.Atoi(n)
		if err != nil || e.IsDir() {
			return nil, inputErrorf("%s: asset/ holds FRU images named by slot (0.bin … %d.bin)", filepath.Join(dir, e.Name()), info.NumFRUs-1)
		}
		out = append(out, slotFile{s, filepath.Join(dir, e.Name())})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].slot < out[j].slot })
	return out, nil
}
