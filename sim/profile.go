package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/hal"
)

// ProfileFormat is the format tag every part profile file carries.
const ProfileFormat = "cmcsync-part-profile/1"

const (
	// maxProfileBytes bounds a profile file (a calibration's is a few KiB).
	maxProfileBytes = 1 << 20
	// maxProfileSize bounds a profile's chip size.
	maxProfileSize = 4 << 30
)

// ErrBadProfile is wrapped by the errors of DecodeProfile and
// Profile.Part for a profile that is not well-formed.
var ErrBadProfile = errors.New("bad part profile")

// Profile is a part profile as a JSON file holds it: a Part and where its
// figures come from. `cmcsync calibrate` writes one from a chip's
// measurements; `sim:profile=PATH` and `cmcsync bench --part-file PATH`
// load it. Times are in microseconds.
//
// A well-formed profile (Part) may still be physically implausible
// (Part.CheckPlausible): loading it is one question, trusting its figures
// another.
type Profile struct {
	// Format is ProfileFormat.
	Format string `json:"format"`
	// Name is the part's name: lower case letters, digits, '.', '_' and
	// '-', at most 64 bytes.
	Name string `json:"name"`
	// Kind is "nor" or "nand".
	Kind           string `json:"kind"`
	Size           int64  `json:"size"`
	EraseSize      int64  `json:"erase_size"`
	BlockEraseSize int64  `json:"block_erase_size,omitempty"`
	PageSize       int64  `json:"page_size"`
	WriteSize      int64  `json:"write_size"`
	Endurance      int    `json:"endurance"`
	// BusBytesPerSec and CommandOverheadUS are the bus rate and command
	// overhead of both corners.
	BusBytesPerSec    int64   `json:"bus_bytes_per_sec"`
	CommandOverheadUS float64 `json:"command_overhead_us"`
	// Bus is the interface the figures assume, if known.
	Bus *ProfileBus `json:"bus,omitempty"`
	// Typical and Max are the array times at the two corners.
	Typical ProfileTiming `json:"typical"`
	Max     ProfileTiming `json:"max"`
	// Source says where the figures come from, e.g. "calibrated on
	// mtd:/dev/mtd6 at 2026-11-26T12:00:00Z".
	Source string `json:"source"`
	// Emulated marks figures measured on an emulator (QEMU) rather than a
	// chip: they describe the emulation, not flash.
	Emulated bool `json:"emulated,omitempty"`
	// Notes say what was not measured, what was assumed, and how each
	// figure was derived.
	Notes []string `json:"notes,omitempty"`
	// Calibration holds the raw statistics a calibration derived the
	// figures from (nil for a profile written by hand).
	Calibration *Calibration `json:"calibration,omitempty"`
}

// ProfileBus is Bus in a profile.
type ProfileBus struct {
	Lines   int   `json:"lines"`
	ClockHz int64 `json:"clock_hz"`
	DTR     bool  `json:"dtr,omitempty"`
}

// ProfileTiming is one corner's array times, in microseconds.
type ProfileTiming struct {
	PageProgramUS float64 `json:"page_program_us"`
	SectorEraseUS float64 `json:"sector_erase_us"`
	BlockEraseUS  float64 `json:"block_erase_us,omitempty"`
	PageReadUS    float64 `json:"page_read_us,omitempty"`
}

// Calibration is how a profile's figures were measured.
type Calibration struct {
	// Device is the flash spec measured; Geometry its geometry as the
	// device reported it.
	Device   string `json:"device"`
	Geometry string `json:"geometry"`
	// Scratch is the range erased and programmed, "OFFSET+SIZE".
	Scratch string `json:"scratch"`
	// At is the wall time of the calibration (RFC 3339).
	At string `json:"at"`
	// Clock is what timed the operations: "monotonic" (the wall clock's
	// monotonic reading around each system call) or "virtual" (a
	// simulator's clock).
	Clock string `json:"clock"`
	// Warmup operations of each kind were done and discarded first.
	Warmup int `json:"warmup"`
	// Measurements are the statistics of each kind of operation.
	Measurements []Measurement `json:"measurements"`
}

// Measurement is the statistics of one kind of timed operation, in
// microseconds, over Count samples (warm-up excluded).
type Measurement struct {
	// Op is what was timed, e.g. "read", "program", "erase", "erase-64k".
	Op string `json:"op"`
	// Bytes is the size of each operation.
	Bytes    int64   `json:"bytes"`
	Count    int     `json:"count"`
	MinUS    float64 `json:"min_us"`
	P10US    float64 `json:"p10_us"`
	MedianUS float64 `json:"median_us"`
	P90US    float64 `json:"p90_us"`
	MaxUS    float64 `json:"max_us"`
	MeanUS   float64 `json:"mean_us"`
}

// maxProfileUS bounds every time in a profile (about 11.6 days) so that it
// converts to a time.Duration without overflow.
const maxProfileUS = 1e12

// us2d converts microseconds to a duration, rounded to the nanosecond.
func us2d(v float64) time.Duration { return time.Duration(math.Round(v * 1e3)) }

// d2us converts a duration to microseconds.
func d2us(d time.Duration) float64 { return float64(d) / 1e3 }

// ProfileOf returns p as a profile with the given source. Both of p's
// corners must have the same bus rate and command overhead (every
// built-in part has).
func ProfileOf(p Part, source string) (Profile, error) {
	if p.Typical.ReadBytesPerSec != p.Max.ReadBytesPerSec || p.Typical.CommandOverhead != p.Max.CommandOverhead {
		return Profile{}, fmt.Errorf("part %q: a profile has one bus rate and command overhead for both corners", p.Name)
	}
	pr := Profile{Format: ProfileFormat, Name: p.Name, Kind: p.Kind.String(), Size: p.Size, EraseSize: p.EraseSize,
		BlockEraseSize: p.BlockEraseSize, PageSize: p.PageSize, WriteSize: p.WriteSize, Endurance: p.Endurance,
		BusBytesPerSec: p.Typical.ReadBytesPerSec, CommandOverheadUS: d2us(p.Typical.CommandOverhead),
		Typical: timingOf(p.Typical), Max: timingOf(p.Max), Source: source}
	if p.Bus != (Bus{}) {
		pr.Bus = &ProfileBus{Lines: p.Bus.Lines, ClockHz: p.Bus.ClockHz, DTR: p.Bus.DTR}
	}
	if _, err := pr.Part(); err != nil {
		return Profile{}, err
	}
	return pr, nil
}

func timingOf(t Timing) ProfileTiming {
	return ProfileTiming{PageProgramUS: d2us(t.PageProgram), SectorEraseUS: d2us(t.SectorErase),
		BlockEraseUS: d2us(t.BlockErase), PageReadUS: d2us(t.PageRead)}
}

// Part returns the profile's part, or an error wrapping ErrBadProfile
// when the profile is not well-formed: the format tag, a name, a known
// kind, a source, finite non-negative times of at most 10^12 µs, and a
// Part that passes Part.Validate. It does not judge plausibility (see
// Part.CheckPlausible).
func (pr Profile) Part() (Part, error) {
	bad := func(format string, a ...any) (Part, error) {
		return Part{}, fmt.Errorf("%w %q: %s", ErrBadProfile, pr.Name, fmt.Sprintf(format, a...))
	}
	if pr.Format != ProfileFormat {
		return bad("format %q: want %q", pr.Format, ProfileFormat)
	}
	if err := checkProfileName(pr.Name); err != nil {
		return bad("%v", err)
	}
	kind, err := hal.ParseKind(pr.Kind)
	if err != nil || pr.Kind != kind.String() {
		return bad("kind %q: want nor or nand", pr.Kind)
	}
	if strings.TrimSpace(pr.Source) == "" {
		return bad("no source: say where the figures come from")
	}
	for _, v := range []struct {
		name string
		us   float64
	}{
		{"command_overhead_us", pr.CommandOverheadUS},
		{"typical.page_program_us", pr.Typical.PageProgramUS}, {"typical.sector_erase_us", pr.Typical.SectorEraseUS},
		{"typical.block_erase_us", pr.Typical.BlockEraseUS}, {"typical.page_read_us", pr.Typical.PageReadUS},
		{"max.page_program_us", pr.Max.PageProgramUS}, {"max.sector_erase_us", pr.Max.SectorEraseUS},
		{"max.block_erase_us", pr.Max.BlockEraseUS}, {"max.page_read_us", pr.Max.PageReadUS},
	} {
		if math.IsNaN(v.us) || v.us < 0 || v.us > maxProfileUS {
			return bad("%s %v: want a number of microseconds from 0 to %g", v.name, v.us, maxProfileUS)
		}
	}
	if pr.Calibration != nil {
		if err := pr.Calibration.check(); err != nil {
			return bad("calibration: %v", err)
		}
	}
	p := Part{Name: pr.Name, Kind: kind, Size: pr.Size, EraseSize: pr.EraseSize, BlockEraseSize: pr.BlockEraseSize,
		PageSize: pr.PageSize, WriteSize: pr.WriteSize, Endurance: pr.Endurance,
		Typical: pr.Typical.timing(pr), Max: pr.Max.timing(pr)}
	if pr.Bus != nil {
		p.Bus = Bus{Lines: pr.Bus.Lines, ClockHz: pr.Bus.ClockHz, DTR: pr.Bus.DTR}
	}
	if p.BlockEraseSize < 0 {
		return bad("negative block erase size")
	}
	if p.Size > maxProfileSize {
		return bad("size %d: at most %s (the largest serial flash chips hold 8 Gbit)", p.Size, hal.FormatSize(maxProfileSize))
	}
	if err := p.Validate(); err != nil {
		return bad("%v", err)
	}
	return p, nil
}

func (t ProfileTiming) timing(pr Profile) Timing {
	return Timing{PageProgram: us2d(t.PageProgramUS), SectorErase: us2d(t.SectorEraseUS), BlockErase: us2d(t.BlockEraseUS),
		PageRead: us2d(t.PageReadUS), ReadBytesPerSec: pr.BusBytesPerSec, CommandOverhead: us2d(pr.CommandOverheadUS)}
}

// checkProfileName allows lower-case names that print and parse safely
// everywhere a part name goes (tables, flash specs, file names).
func checkProfileName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("name %q: want 1 to 64 bytes", name)
	}
	if strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") != "" {
		return fmt.Errorf("name %q: use lower-case letters, digits, '.', '_' and '-'", name)
	}
	return nil
}

// check reports whether every measurement is ordered (min ≤ p10 ≤ median
// ≤ p90 ≤ max, the mean between min and max) and counted.
func (c *Calibration) check() error {
	for _, m := range c.Measurements {
		if m.Op == "" || m.Count <= 0 || m.Bytes < 0 {
			return fmt.Errorf("measurement %q: want an op, a positive count and non-negative bytes", m.Op)
		}
		v := []float64{m.MinUS, m.P10US, m.MedianUS, m.P90US, m.MaxUS}
		for i, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) || (i > 0 && x < v[i-1]) {
				return fmt.Errorf("measurement %q of %d bytes: min, p10, median, p90, max %v are not in order", m.Op, m.Bytes, v)
			}
		}
		if math.IsNaN(m.MeanUS) || m.MeanUS < m.MinUS || m.MeanUS > m.MaxUS {
			return fmt.Errorf("measurement %q of %d bytes: mean %v outside min %v and max %v", m.Op, m.Bytes, m.MeanUS, m.MinUS, m.MaxUS)
		}
	}
	return nil
}

// DecodeProfile reads one JSON profile from r (at most 1 MiB; unknown
// fields and trailing data are errors) and checks that it is well-formed
// (Profile.Part). Errors wrap ErrBadProfile.
func DecodeProfile(r io.Reader) (Profile, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxProfileBytes+1))
	if err != nil {
		return Profile{}, err
	}
	if len(data) > maxProfileBytes {
		return Profile{}, fmt.Errorf("%w: larger than %d bytes", ErrBadProfile, maxProfileBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var pr Profile
	if err := dec.Decode(&pr); err != nil {
		return Profile{}, fmt.Errorf("%w: %w", ErrBadProfile, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Profile{}, fmt.Errorf("%w: data after the profile", ErrBadProfile)
	}
	if _, err := pr.Part(); err != nil {
		return Profile{}, err
	}
	return pr, nil
}

// Encode writes the profile as indented JSON.
func (pr Profile) Encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(pr)
}

// LoadProfile reads and checks the profile file at path (DecodeProfile).
func LoadProfile(path string) (Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return Profile{}, fmt.Errorf("part profile: %w", err)
	}
	defer f.Close()
	pr, err := DecodeProfile(f)
	if err != nil {
		return Profile{}, fmt.Errorf("part profile %s: %w", path, err)
	}
	return pr, nil
}
