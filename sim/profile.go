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

// ProfileFormat is the format tag of the part profile files `cmcsync
// calibrate` writes: every duration a float number of seconds in a member
// ending _seconds (docs/JSON.md).
const ProfileFormat = "cmcsync-part-profile/2"

// ProfileFormatV1 is the format tag of the first part profile files, whose
// durations are microseconds in members ending _us. DecodeProfile still
// reads them (profile_v1.go) and returns them as ProfileFormat profiles.
const ProfileFormatV1 = "cmcsync-part-profile/1"

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
// load it. Times are float seconds (a float64 keeps sub-nanosecond
// precision at these magnitudes).
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
	// BusBytesPerSec and CommandOverheadSeconds are the bus rate and
	// command overhead of both corners.
	BusBytesPerSec         int64   `json:"bus_bytes_per_sec"`
	CommandOverheadSeconds float64 `json:"command_overhead_seconds"`
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

// ProfileTiming is one corner's array times, in seconds.
type ProfileTiming struct {
	PageProgramSeconds float64 `json:"page_program_seconds"`
	SectorEraseSeconds float64 `json:"sector_erase_seconds"`
	BlockEraseSeconds  float64 `json:"block_erase_seconds,omitempty"`
	PageReadSeconds    float64 `json:"page_read_seconds,omitempty"`
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
// seconds, over Count samples (warm-up excluded).
type Measurement struct {
	// Op is what was timed, e.g. "read", "program", "erase", "erase-64k".
	Op string `json:"op"`
	// Bytes is the size of each operation.
	Bytes         int64   `json:"bytes"`
	Count         int     `json:"count"`
	MinSeconds    float64 `json:"min_seconds"`
	P10Seconds    float64 `json:"p10_seconds"`
	MedianSeconds float64 `json:"median_seconds"`
	P90Seconds    float64 `json:"p90_seconds"`
	MaxSeconds    float64 `json:"max_seconds"`
	MeanSeconds   float64 `json:"mean_seconds"`
}

// maxProfileSeconds bounds every time in a profile (about 11.6 days) so
// that it converts to a time.Duration without overflow.
const maxProfileSeconds = 1e6

// s2d converts seconds to a duration, rounded to the nanosecond.
func s2d(v float64) time.Duration { return time.Duration(math.Round(v * 1e9)) }

// d2s converts a duration to seconds.
func d2s(d time.Duration) float64 { return float64(d) / 1e9 }

// ProfileOf returns p as a profile with the given source. Both of p's
// corners must have the same bus rate and command overhead (every
// built-in part has).
func ProfileOf(p Part, source string) (Profile, error) {
	if p.Typical.ReadBytesPerSec != p.Max.ReadBytesPerSec || p.Typical.CommandOverhead != p.Max.CommandOverhead {
		return Profile{}, fmt.Errorf("part %q: a profile has one bus rate and command overhead for both corners", p.Name)
	}
	pr := Profile{Format: ProfileFormat, Name: p.Name, Kind: p.Kind.String(), Size: p.Size, EraseSize: p.EraseSize,
		BlockEraseSize: p.BlockEraseSize, PageSize: p.PageSize, WriteSize: p.WriteSize, Endurance: p.Endurance,
		BusBytesPerSec: p.Typical.ReadBytesPerSec, CommandOverheadSeconds: d2s(p.Typical.CommandOverhead),
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
	return ProfileTiming{PageProgramSeconds: d2s(t.PageProgram), SectorEraseSeconds: d2s(t.SectorErase),
		BlockEraseSeconds: d2s(t.BlockErase), PageReadSeconds: d2s(t.PageRead)}
}

// Part returns the profile's part, or an error wrapping ErrBadProfile
// when the profile is not well-formed: the format tag, a name, a known
// kind, a source, finite non-negative times of at most 10^6 s, ordered
// calibration statistics, and a
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
		s    float64
	}{
		{"command_overhead_seconds", pr.CommandOverheadSeconds},
		{"typical.page_program_seconds", pr.Typical.PageProgramSeconds}, {"typical.sector_erase_seconds", pr.Typical.SectorEraseSeconds},
		{"typical.block_erase_seconds", pr.Typical.BlockEraseSeconds}, {"typical.page_read_seconds", pr.Typical.PageReadSeconds},
		{"max.page_program_seconds", pr.Max.PageProgramSeconds}, {"max.sector_erase_seconds", pr.Max.SectorEraseSeconds},
		{"max.block_erase_seconds", pr.Max.BlockEraseSeconds}, {"max.page_read_seconds", pr.Max.PageReadSeconds},
	} {
		if err := checkTime(v.name, v.s, "seconds", maxProfileSeconds); err != nil {
			return bad("%v", err)
		}
	}
	if pr.Calibration != nil {
		for _, m := range pr.Calibration.Measurements {
			if err := checkStats(m.Op, m.Bytes, m.Count, "seconds", maxProfileSeconds,
				[]float64{m.MinSeconds, m.P10Seconds, m.MedianSeconds, m.P90Seconds, m.MaxSeconds}, m.MeanSeconds); err != nil {
				return bad("calibration: %v", err)
			}
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
	return Timing{PageProgram: s2d(t.PageProgramSeconds), SectorErase: s2d(t.SectorEraseSeconds), BlockErase: s2d(t.BlockEraseSeconds),
		PageRead: s2d(t.PageReadSeconds), ReadBytesPerSec: pr.BusBytesPerSec, CommandOverhead: s2d(pr.CommandOverheadSeconds)}
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

// checkTime reports whether v, the member name in unit, is a number from
// 0 to most (JSON has no NaN, but a Profile built in Go may).
func checkTime(name string, v float64, unit string, most float64) error {
	if math.IsNaN(v) || v < 0 || v > most {
		return fmt.Errorf("%s %v: want a number of %s from 0 to %g", name, v, unit, most)
	}
	return nil
}

// checkStats reports whether one measurement is counted and ordered: an
// op, a positive count, non-negative bytes, stats (min, p10, median, p90,
// max, in unit) from 0 to most and in order, the mean between min and max.
func checkStats(op string, bytes int64, count int, unit string, most float64, v []float64, mean float64) error {
	if op == "" || count <= 0 || bytes < 0 {
		return fmt.Errorf("measurement %q: want an op, a positive count and non-negative bytes", op)
	}
	for i, x := range v {
		if math.IsNaN(x) || x < 0 || x > most || (i > 0 && x < v[i-1]) {
			return fmt.Errorf("measurement %q of %d bytes: min, p10, median, p90, max %v (%s) are not in order from 0 to %g", op, bytes, v, unit, most)
		}
	}
	if math.IsNaN(mean) || mean < v[0] || mean > v[len(v)-1] {
		return fmt.Errorf("measurement %q of %d bytes: mean %v outside min %v and max %v (%s)", op, bytes, mean, v[0], v[len(v)-1], unit)
	}
	return nil
}

// DecodeProfile reads one JSON profile from r (at most 1 MiB) and checks
// that it is well-formed (Profile.Part). Its "format" member picks the
// decoding: ProfileFormat, or ProfileFormatV1 (microseconds, converted to
// seconds: the profile returned is a ProfileFormat one); any other format
// is an error, and so are unknown members (a /1 member in a /2 file or
// the reverse among them), a missing required member, and trailing data.
// Errors wrap ErrBadProfile.
func DecodeProfile(r io.Reader) (Profile, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxProfileBytes+1))
	if err != nil {
		return Profile{}, err
	}
	if len(data) > maxProfileBytes {
		return Profile{}, fmt.Errorf("%w: larger than %d bytes", ErrBadProfile, maxProfileBytes)
	}
	var head struct {
		Format *string `json:"format"`
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&head); err != nil {
		return Profile{}, fmt.Errorf("%w: %w", ErrBadProfile, jsonSyntax(err))
	}
	var pr Profile
	switch {
	case head.Format == nil:
		return Profile{}, fmt.Errorf("%w: no format member: want %q", ErrBadProfile, ProfileFormat)
	case *head.Format == ProfileFormat:
		if err := decodeStrict(data, &pr, "_seconds"); err != nil {
			if strings.Contains(err.Error(), `_us"`) {
				return Profile{}, fmt.Errorf("%w (format %s has durations in seconds, *_seconds; *_us members, in microseconds, are format %s's)", err, ProfileFormat, ProfileFormatV1)
			}
			return Profile{}, err
		}
	case *head.Format == ProfileFormatV1:
		var v1 profileV1
		if err := decodeStrict(data, &v1, "_us"); err != nil {
			return Profile{}, fmt.Errorf("%w (format %s)", err, ProfileFormatV1)
		}
		if pr, err = v1.profile(); err != nil {
			return Profile{}, err
		}
	default:
		return Profile{}, fmt.Errorf("%w: format %q: want %q (or %q, read and converted)", ErrBadProfile, *head.Format, ProfileFormat, ProfileFormatV1)
	}
	if _, err := pr.Part(); err != nil {
		return Profile{}, err
	}
	return pr, nil
}

// decodeStrict decodes data, one JSON object, into v: unknown members and
// trailing data are errors, and so is a required member missing (its
// durations' names end with suffix). Errors wrap ErrBadProfile.
func decodeStrict(data []byte, v any, suffix string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrBadProfile, jsonSyntax(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: data after the profile", ErrBadProfile)
	}
	if err := checkRequired(data, suffix); err != nil {
		return fmt.Errorf("%w: %w", ErrBadProfile, err)
	}
	return nil
}

// jsonSyntax says what a JSON decoding error means for a profile file:
// encoding/json's bare "EOF" and "unexpected EOF" become an empty and a
// cut-short file, a syntax error gets its byte offset. Other errors (a
// member of the wrong type, an unknown member) are returned as they are.
func jsonSyntax(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("the file is empty: want a JSON object, as cmcsync calibrate --out writes it (%w)", err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("the file ends inside its JSON object: cut short? (%w)", err)
	case errors.As(err, &se):
		return fmt.Errorf("malformed JSON at byte %d: %w", se.Offset, err)
	}
	return err
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
