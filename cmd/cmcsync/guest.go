package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

func init() {
	register(command{name: "guest", summary: "run sync rounds as the CMC's sync service (inside the QEMU guest)", run: runGuest})
}

// guestPrefix starts every line the guest command prints: one JSON object
// per line, for the host (qemu/scenario) to parse off the serial console.
const guestPrefix = "GUEST "

// guestLine is one line of the guest command's output.
type guestLine struct {
	Event string `json:"event"` // open, round-start, round, done, error
	Round int    `json:"round,omitempty"`
	// ElapsedMS is the wall time of the step in the guest, in milliseconds.
	ElapsedMS  float64             `json:"elapsed_ms"`
	Generation uint64              `json:"generation"`
	Report     *engine.RoundReport `json:"report,omitempty"`
	Status     *engine.Status      `json:"status,omitempty"`
	Events     []engine.Event      `json:"events,omitempty"`
	Error      string              `json:"error,omitempty"`
	// Types are the committed generation's types (with digests) after a
	// round.
	Types []engine.TypeStatus `json:"types,omitempty"`
}

func runGuest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("guest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	primary := fs.String("primary", "mtd:/dev/mtd5", "primary chip ("+flashspec.Usage+")")
	backup := fs.String("backup", "mtd:/dev/mtd6", "backup chip")
	rounds := fs.Int("rounds", 1, "rounds to run (0: until killed)")
	seed := fs.Uint64("seed", 1, "seed of the simulated CMC activity on the primary")
	activity := fs.Duration("activity", 10*time.Minute, "CMC activity (generator time) written to the primary before each round; 0 = none")
	format := fs.Bool("format", false, "format both chips first (image, information region, store) and fill the primary's information with the seeded CMC content")
	markBad := fs.String("mark-bad", "", "after --format, mark erase blocks bad as if they had gone bad in service: a list of primary:BLOCK or backup:BLOCK (block numbers)")
	traceWrites := fs.Bool("trace-writes", false, "print a line at the first program or erase of the backup in each round (for power-cut timing)")
	hold := fs.Bool("hold", false, "after opening (recovery), wait for a line on standard input before the rounds")
	pause := fs.Duration("pause", 0, "wall-clock pause between rounds")
	mutantName := fs.String("mutant", "", "deliberately broken engine variant (for the fault harness)")
	if done, err := parseFlags(fs, args); done {
		return err
	}
	if *rounds < 0 {
		return usageError("guest: --rounds must be 0 or more")
	}
	var mutant engine.Mutant
	if *mutantName != "" {
		m, err := engine.ParseMutant(*mutantName)
		if err != nil {
			return usageError("guest: %v", err)
		}
		mutant = m
	}
	open := func(s string) (hal.Flash, error) {
		sp, err := flashspec.Parse(s)
		if err != nil {
			return nil, usageError("guest: %v", err)
		}
		return flashspec.Open(sp, nil)
	}
	pf, err := open(*primary)
	if err != nil {
		return err
	}
	defer hal.Close(pf)
	bf, err := open(*backup)
	if err != nil {
		return err
	}
	defer hal.Close(bf)

	emit := func(l guestLine) {
		b, err := json.Marshal(l)
		if err != nil {
			b, _ = json.Marshal(guestLine{Event: "error", Error: err.Error()})
		}
		fmt.Fprintf(stdout, "%s%s\n", guestPrefix, b)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

	if *format {
		t0 := time.Now()
		if err := guestFormat(pf, bf, *seed); err != nil {
			emit(guestLine{Event: "error", Error: err.Error()})
			return fmt.Errorf("guest: %w", err)
		}
		emit(guestLine{Event: "format", ElapsedMS: ms(time.Since(t0))})
	}
	if *markBad != "" {
		if err := markBlocksBad(pf, bf, *markBad); err != nil {
			emit(guestLine{Event: "error", Error: err.Error()})
			return fmt.Errorf("guest: %w", err)
		}
		emit(guestLine{Event: "mark-bad", Error: "marked bad: " + *markBad})
	}
	var traced *writeTracer
	if *traceWrites {
		traced = &writeTracer{Flash: bf, emit: func(round int) { emit(guestLine{Event: "backup-write", Round: round}) }}
		bf = traced
	}
	start := time.Now()
	eng, err := engine.Open(ctx, pf, bf, engine.Options{Clock: hal.SystemClock{}, Mutant: mutant})
	if err != nil {
		emit(guestLine{Event: "error", Error: err.Error()})
		return fmt.Errorf("guest: open engine: %w", err)
	}
	st := eng.Status()
	emit(guestLine{Event: "open", ElapsedMS: ms(time.Since(start)), Generation: st.Generation, Status: &st, Events: eng.Events()})

	if *hold {
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			return fmt.Errorf("guest: waiting for the go-ahead: %w", err)
		}
	}
	l := eng.Layout()
	if *activity > 0 {
		// A power cut during the CMC's own writes can leave a record torn;
		// its service rewrites the preset default at start, as on a real CMC.
		repaired, err := repairRegion(eng.Primary(), l)
		if err != nil {
			emit(guestLine{Event: "error", Error: "repair the primary's information: " + err.Error()})
			return fmt.Errorf("guest: %w", err)
		}
		if len(repaired) > 0 {
			emit(guestLine{Event: "repair", Error: "torn records reset to defaults: " + info.FormatList(repaired)})
		}
	}
	gen := cmcsim.New(*seed)
	for i := 1; *rounds == 0 || i <= *rounds; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if *activity > 0 {
			region, err := info.OpenRegion(eng.Primary(), l.InfoOff, l.InfoSize)
			if err == nil {
				err = gen.Step(region, *activity)
			}
			if err != nil {
				emit(guestLine{Event: "error", Round: i, Error: "cmc activity on the primary: " + err.Error()})
				return fmt.Errorf("guest: cmc activity: %w", err)
			}
		}
		if traced != nil {
			traced.arm(i)
		}
		emit(guestLine{Event: "round-start", Round: i, Generation: eng.Status().Generation})
		t0 := time.Now()
		rep, err := eng.Round(ctx)
		st := eng.Status()
		line := guestLine{Event: "round", Round: i, ElapsedMS: ms(time.Since(t0)), Report: &rep, Generation: st.Generation, Types: st.Types}
		if err != nil {
			line.Error = err.Error()
		}
		emit(line)
		if *pause > 0 {
			if err := (hal.SystemClock{}).Sleep(ctx, *pause); err != nil {
				return err
			}
		}
	}
	st = eng.Status()
	emit(guestLine{Event: "done", ElapsedMS: ms(time.Since(start)), Generation: st.Generation, Status: &st})
	if st.LastError != "" {
		return &exitError{code: 1, msg: "guest: last round failed: " + st.LastError}
	}
	return nil
}

// guestFormat formats both chips with the default layout and configuration
// and populates the primary's information region (seeded).
func guestFormat(pf, bf hal.Flash, seed uint64) error {
	_, err := engine.FormatAndFill(pf, bf, engine.Options{Clock: hal.SystemClock{}, Config: engine.DefaultConfig()}, cmcsim.New(seed).Populate)
	return err
}

// repairRegion rewrites, with its preset default, every type whose record
// on the primary's information region does not decode, and returns them.
func repairRegion(f hal.Flash, l engine.Layout) ([]info.Type, error) {
	region, err := info.OpenRegion(f, l.InfoOff, l.InfoSize)
	if err != nil {
		return nil, err
	}
	var repaired []info.Type
	for _, t := range info.All() {
		if _, err := region.Read(t); errors.Is(err, info.ErrCorrupt) {
			if err := region.Write(t, info.Default(t)); err != nil {
				return repaired, fmt.Errorf("rewrite %v: %w", t, err)
			}
			repaired = append(repaired, t)
		} else if err != nil {
			return repaired, err
		}
	}
	return repaired, nil
}

// markBlocksBad marks the listed blocks ("primary:N" or "backup:N") bad.
func markBlocksBad(pf, bf hal.Flash, list string) error {
	for _, item := range strings.Split(list, ",") {
		chip, num, ok := strings.Cut(strings.TrimSpace(item), ":")
		b, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || b < 0 {
			return fmt.Errorf("--mark-bad: %q is not primary:BLOCK or backup:BLOCK", item)
		}
		f := pf
		switch chip {
		case "primary":
		case "backup":
			f = bf
		default:
			return fmt.Errorf("--mark-bad: %q: chip must be primary or backup", item)
		}
		if err := hal.MarkBad(f, b*f.Geometry().EraseSize); err != nil {
			return fmt.Errorf("mark %s block %d bad: %w", chip, b, err)
		}
	}
	return nil
}

// writeTracer wraps the backup chip and reports the first program or erase
// after each arm: the moment a round starts changing the backup. It keeps
// the chip's bad-block and statistics abilities.
type writeTracer struct {
	hal.Flash
	emit  func(round int)
	round int
	armed bool
}

func (w *writeTracer) arm(round int) { w.round, w.armed = round, true }

func (w *writeTracer) touched() {
	if w.armed {
		w.armed = false
		w.emit(w.round)
	}
}

// WriteAt reports the first write of a round, then programs.
func (w *writeTracer) WriteAt(p []byte, off int64) (int, error) {
	w.touched()
	return w.Flash.WriteAt(p, off)
}

// Erase reports the first write of a round, then erases.
func (w *writeTracer) Erase(off, n int64) error {
	w.touched()
	return w.Flash.Erase(off, n)
}

// IsBad asks the wrapped chip.
func (w *writeTracer) IsBad(off int64) (bool, error) { return hal.IsBad(w.Flash, off) }

// MarkBad marks on the wrapped chip.
func (w *writeTracer) MarkBad(off int64) error { return hal.MarkBad(w.Flash, off) }

// Stats returns the wrapped chip's statistics (zero if it keeps none).
func (w *writeTracer) Stats() hal.Stats {
	st, _ := hal.StatsOf(w.Flash)
	return st
}

// Close closes the wrapped chip.
func (w *writeTracer) Close() error { return hal.Close(w.Flash) }
