package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cmcsync/cmcsync/source/collect"
	"github.com/cmcsync/cmcsync/source/ipmi/sel"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/web"
)

func init() {
	register(command{name: "info", summary: "write or read the active chip's information region: put, get, collect", run: runInfo})
}

func runInfo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return subcommand(ctx, "info", map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"put": runInfoPut, "get": runInfoGet, "collect": runInfoCollect,
	}, args, stdout, stderr)
}

// infoRegion opens the engine on the pair and the active chip's
// information region; with readOnly (info get) the pair is opened
// read-only (pairFlags.openReadOnly), and a pending repair that writes
// the active chip's information region is a refusal (readOnlyPending).
func infoRegion(ctx context.Context, fs *flag.FlagSet, pf *pairFlags, readOnly bool, stderr io.Writer) (*openedEngine, *info.Region, error) {
	e, err := pf.openMode(ctx, fs, readOnly)
	if err != nil {
		return nil, nil, err
	}
	if readOnly {
		if err := e.readOnlyPending(fs.Name(), stderr, true); err != nil {
			return nil, nil, e.CloseAfter(err, true)
		}
	}
	l := e.Layout()
	r, err := info.OpenRegion(e.Primary(), l.InfoOff, l.InfoSize)
	if err != nil {
		e.CloseAfter(err, true) // nothing read or written: no file it created stays
		return nil, nil, withRegionHint(fmt.Errorf("%s: the active chip's information region: %w", fs.Name(), err), regionHintPair)
	}
	return e, r, nil
}

func selLayout(s string) (sel.Layout, error) {
	switch s {
	case "ipmitool":
		return sel.LayoutIpmitool, nil
	case "ipmi":
		return sel.LayoutIPMI, nil
	}
	return 0, fmt.Errorf("--sel-layout %q: want ipmitool or ipmi", s)
}

// infoPutResult is info put's and info collect's --json output.
type infoPutResult struct {
	Type    string `json:"type"`
	File    string `json:"file"`
	Slot    int    `json:"slot,omitempty"`
	Changed bool   `json:"changed"`
	Seq     uint64 `json:"seq"`
	Size    int    `json:"size"`
}

func runInfoPut(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("info put", stderr,
		"usage: cmcsync info put TYPE FILE|- --primary SPEC --backup SPEC [--config FILE] [--slot N] [--allow-empty] [--json]",
		"\nWrites TYPE's record of the active chip's information region from FILE (- reads",
		"stdin), as a CMC service does: event-log takes a SEL file (raw records or",
		"ipmitool's text), asset an IPMI FRU image for one slot, every type a payload as",
		"cmcsync info get prints it. Input that does not decode exits 2 and writes nothing;",
		"so does an empty one (0 bytes, or a SEL file without a record: an export that",
		"failed would clear the record), unless --allow-empty, which lets an empty SEL",
		"file clear the event log. A payload equal to the stored one is not written.",
		"While cmcsync serve holds",
		"the chips, it goes through the daemon's API (with --config naming its",
		"configuration), which writes between rounds.")
	pf := addPairFlags(fs)
	slot := fs.Int("slot", 0, "asset: the FRU slot (0 the chassis, 1-16 the nodes, 17-22 the PSUs)")
	layout := fs.String("sel-layout", "ipmitool", "event-log raw files: ipmitool (as ipmitool sel writeraw saves them) or ipmi")
	allowEmpty := fs.Bool("allow-empty", false, "event-log: an empty SEL file (0 bytes, or no record) clears the event log (without it, refused)")
	pos, done, err := parseWithArgs(fs, args)
	if done {
		return err
	}
	if len(pos) != 2 {
		return usageError("info put: want TYPE and FILE (or - for stdin), got %q", pos)
	}
	t, err := info.ParseType(pos[0])
	if err != nil {
		return usageError("info put: %v", err)
	}
	sl, err := selLayout(*layout)
	if err != nil {
		return usageError("info put: %v", err)
	}
	var input []byte
	if pos[1] == "-" {
		input, err = io.ReadAll(os.Stdin)
	} else {
		input, err = os.ReadFile(pos[1])
	}
	if err != nil {
		// The file the command line names is not there or not readable:
		// bad input, and nothing is opened.
		return fmt.Errorf("info put: %w: %w (give the FILE to put, or - for standard input)", errBadInput, err)
	}
	o := collect.Options{Slot: *slot, SELLayout: sl, AllowEmpty: *allowEmpty}
	// An empty input is refused before the chips open: nothing is
	// opened, locked or written.
	if err := collect.CheckEmpty(t, input, o); err != nil {
		return fmt.Errorf("info put: %s: %w", pos[1], inputErr(err))
	}
	e, c, err := pf.openOrDaemon(ctx, fs, stderr, "info put", "putting through its API")
	if err != nil {
		return err
	}
	if c != nil {
		res, err := c.PutInfo(ctx, web.InfoPutOptions{Type: t.String(), Data: input, Slot: *slot, SELLayout: *layout, AllowEmpty: *allowEmpty})
		if errors.Is(err, web.ErrInvalid) {
			return fmt.Errorf("info put: %s: %w: %w", pos[1], errBadInput, err)
		}
		if err != nil {
			return fmt.Errorf("info put: %w", err)
		}
		out := infoPutResult{Type: res.Type, File: pos[1], Slot: res.Slot, Changed: res.Changed, Seq: res.Seq, Size: res.Size}
		if *pf.json {
			return writeJSON(stdout, out)
		}
		printPut(stdout, out)
		return nil
	}
	defer func() { err = e.CloseAfter(err, false) }()
	l := e.Layout()
	r, err := info.OpenRegion(e.Primary(), l.InfoOff, l.InfoSize)
	if err != nil {
		return withRegionHint(fmt.Errorf("info put: the active chip's information region: %w", err), regionHintPair)
	}
	changed, err := collect.PutInput(r, t, input, o)
	if err != nil {
		return fmt.Errorf("info put: %s: %w", pos[1], inputErr(err))
	}
	rec, err := r.Read(t)
	if err != nil {
		return fmt.Errorf("info put: read back: %w", err)
	}
	res := infoPutResult{Type: t.String(), File: pos[1], Slot: *slot, Changed: changed, Seq: rec.Seq, Size: len(rec.Payload)}
	if *pf.json {
		return writeJSON(stdout, res)
	}
	printPut(stdout, res)
	return nil
}

func printPut(w io.Writer, r infoPutResult) {
	what := "unchanged (nothing written)"
	if r.Changed {
		what = "written"
	}
	fmt.Fprintf(w, "%s: %s from %s: record seq %d, %d bytes\n", r.Type, what, r.File, r.Seq, r.Size)
}

// typeNames lists the information types' names, "power, fan, ...".
func typeNames() string {
	var names []string
	for _, t := range info.All() {
		names = append(names, t.String())
	}
	return strings.Join(names, ", ")
}

// inputErr marks decoding errors as bad input (exit 2); an empty event
// log input names --allow-empty.
func inputErr(err error) error {
	if errors.Is(err, collect.ErrEmpty) && strings.Contains(err.Error(), "event-log") {
		return fmt.Errorf("%w: %w (--allow-empty clears the event log on purpose)", errBadInput, err)
	}
	if errors.Is(err, collect.ErrInput) {
		return fmt.Errorf("%w: %w", errBadInput, err)
	}
	return err
}

// infoGetResult is info get's --json output: the record, without its
// payload (which info get writes as bytes).
type infoGetResult struct {
	Type    string `json:"type"`
	Seq     uint64 `json:"seq"`
	Size    int    `json:"size"`
	CRC     uint32 `json:"crc"`
	Slots   int    `json:"slots"`
	Entries int    `json:"entries"`
	Updated string `json:"updated,omitempty"`
}

func runInfoGet(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("info get", stderr,
		"usage: cmcsync info get TYPE --primary SPEC --backup SPEC [--config FILE] [--out FILE | --json]",
		"\nWrites TYPE's payload from the active chip's information region (the bytes info",
		"put takes back), or with --json describes the record. It only reads: nothing",
		"is written to either chip, not even the repairs a writing command's open",
		"makes; a failover's restore or a restore-defaults not finished on the active",
		"chip is refused (exit 3: run cmcsync sync, which finishes it).")
	pf := addPairFlags(fs)
	out := fs.String("out", "", "write the payload to `FILE` (default: standard output)")
	pos, done, err := parseWithArgs(fs, args)
	if done {
		return err
	}
	if len(pos) != 1 {
		return usageError("info get: want one TYPE (one of %s), got %d: %q", typeNames(), len(pos), pos)
	}
	t, err := info.ParseType(pos[0])
	if err != nil {
		return usageError("info get: %v", err)
	}
	if *out == "" && !*pf.json && isTerminal(stdout) {
		// The payload is binary (hundreds of KiB of it): on a terminal it
		// is garbage that can leave the terminal in a strange state.
		return usageError("info get: the payload is binary and standard output is a terminal: give --out FILE, send it to a file or a pipe (> %s.bin, | xxd | less), or --json to describe the record", t)
	}
	var of *outFile
	if *out != "" {
		if *pf.json {
			return usageError("info get: give --out FILE (the payload) or --json (a description of the record), not both")
		}
		if err := pf.chips.load(fs); err != nil {
			return err
		}
		// The output is checked (and its temporary file made) before the
		// chips open: a bad --out changes nothing and opens nothing.
		if of, err = createOut("info get", "--out", *out, chipFile{"primary", *pf.primary}, chipFile{"backup", *pf.backup}); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				of.Abort()
			}
		}()
	}
	e, r, err := infoRegion(ctx, fs, pf, true, stderr)
	if err != nil {
		return err
	}
	defer func() { err = e.CloseAfter(err, true) }()
	rec, err := r.Read(t)
	if err != nil {
		return fmt.Errorf("info get: %w", err)
	}
	if *pf.json {
		res := infoGetResult{Type: t.String(), Seq: rec.Seq, Size: len(rec.Payload), CRC: rec.CRC}
		if d, err := info.DescribePayload(t, rec.Payload); err == nil {
			res.Slots, res.Entries, res.Updated = d.Slots, d.Entries, d.Updated.Format("2006-01-02T15:04:05Z07:00")
		}
		return writeJSON(stdout, res)
	}
	if of != nil {
		if _, err := of.Write(rec.Payload); err != nil {
			return fmt.Errorf("info get: --out: write %s: %w", *out, err)
		}
		return of.Commit()
	}
	_, err = stdout.Write(rec.Payload)
	return err
}

func runInfoCollect(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("info collect", stderr,
		"usage: cmcsync info collect --dir FOLDER --primary SPEC --backup SPEC [--config FILE] [--allow-empty] [--json]",
		"\nWrites each type that has a file in FOLDER and changed: a file named after the",
		"type (power, fan, node, event-log, fault-log, asset; any extension, e.g.",
		"event-log.sel), and asset/N.bin FRU images by slot. Every file is checked",
		"first: one that does not decode, or is empty (0 bytes, or a SEL file without a",
		"record) without --allow-empty, exits 2 and nothing is written.")
	pf := addPairFlags(fs)
	dir := fs.String("dir", "", "the `FOLDER` of information files (required)")
	layout := fs.String("sel-layout", "ipmitool", "event-log raw files: ipmitool or ipmi")
	allowEmpty := fs.Bool("allow-empty", false, "an empty event-log file (0 bytes, or no record) clears the event log (without it, refused)")
	if done, err := parseFlags(fs, args); done {
		return err
	}
	if *dir == "" {
		return usageError("info collect: --dir is required")
	}
	if st, err := os.Stat(*dir); err != nil || !st.IsDir() {
		if err == nil {
			err = errors.New("not a folder")
		}
		return usageError("info collect: --dir %s: %v (give the folder of information files, docs/CLI.md, Information)", *dir, err)
	}
	sl, err := selLayout(*layout)
	if err != nil {
		return usageError("info collect: %v", err)
	}
	e, r, err := infoRegion(ctx, fs, pf, false, stderr)
	if err != nil {
		return err
	}
	defer func() { err = e.CloseAfter(err, false) }()
	if ignored, err := collect.Ignored(*dir); err == nil && len(ignored) > 0 {
		fmt.Fprintf(stderr, "info collect: note: ignored %s in %s: not named after an information type (%s, with any extension; asset/N.bin by slot)\n",
			strings.Join(ignored, ", "), *dir, typeNames())
	}
	results, err := collect.Collect(r, *dir, collect.Options{SELLayout: sl, AllowEmpty: *allowEmpty})
	if err != nil {
		return fmt.Errorf("info collect: %w", inputErr(err))
	}
	out := []infoPutResult{} // --json: [] when nothing was collected, not null
	for _, x := range results {
		rec, err := r.Read(x.Type)
		if err != nil {
			return fmt.Errorf("info collect: read back: %w", err)
		}
		out = append(out, infoPutResult{Type: x.Type.String(), File: x.File, Slot: x.Slot, Changed: x.Changed, Seq: rec.Seq, Size: len(rec.Payload)})
	}
	if *pf.json {
		return writeJSON(stdout, out)
	}
	if len(out) == 0 {
		// A folder without one file named after a type (a wrong --dir, a
		// misnamed file) is said, not a silent success.
		fmt.Fprintf(stdout, "info collect: no information file in %s (files named after a type, e.g. power.bin or event-log.sel, and asset/N.bin): nothing written\n", *dir)
	}
	for _, x := range out {
		printPut(stdout, x)
	}
	return nil
}
