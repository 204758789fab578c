package sim

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestProfileRoundTrip: every built-in part survives Part → Profile →
// JSON → Profile → Part unchanged.
func TestProfileRoundTrip(t *testing.T) {
	for _, p := range Parts() {
		pr, err := ProfileOf(p, "sim table (SFDP)")
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, pr.Encode(&buf))
		back, err := DecodeProfile(&buf)
		require.NoError(t, err, buf.String())
		got, err := back.Part()
		require.NoError(t, err)
		require.Equal(t, p, got)
	}
}

func TestProfileCalibrationRoundTrip(t *testing.T) {
	pr, err := ProfileOf(mustPart(t, norName), "calibrated on sim")
	require.NoError(t, err)
	pr.Name, pr.Emulated, pr.Notes = "calibrated-flash1", true, []string{"block erase not measurable"}
	pr.Calibration = &Calibration{Device: "mtd:/dev/mtd6", Scratch: "0x7f00000+1MiB", Clock: "monotonic", Warmup: 3,
		Measurements: []Measurement{{Op: "program", Bytes: 256, Count: 640, MinSeconds: 600e-6, P10Seconds: 650e-6, MedianSeconds: 705e-6, P90Seconds: 760e-6, MaxSeconds: 4000e-6, MeanSeconds: 720e-6}}}
	path := filepath.Join(t.TempDir(), "p.json")
	var buf bytes.Buffer
	require.NoError(t, pr.Encode(&buf))
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	back, err := LoadProfile(path)
	require.NoError(t, err)
	require.Equal(t, pr, back)
}

func TestDecodeProfileErrors(t *testing.T) {
	pr, err := ProfileOf(mustPart(t, norName), "table")
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, pr.Encode(&buf))
	good := buf.String()
	v1 := readTestdata(t, "profile-v1.json")
	cal := `"source": "table", "calibration": {"device": "d", "geometry": "g", "scratch": "0+4K", "at": "", "clock": "virtual", "warmup": 0,
			"measurements": [{"op": "erase", "bytes": 4096, "count": 3, "min_seconds": 5e-6, "p10_seconds": 4e-6, "median_seconds": 6e-6, "p90_seconds": 7e-6, "max_seconds": 8e-6, "mean_seconds": 6e-6}]}`
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "bad part profile: the file is empty: want a JSON object, as cmcsync calibrate --out writes it (EOF)"},
		{"not json", "part=w25q256jv", "bad part profile: malformed JSON at byte 1: invalid character"},
		{"cut short", good[:len(good)/2], "bad part profile: the file ends inside its JSON object: cut short? (unexpected EOF)"},
		{"cut short after the format", `{"format": "cmcsync-part-profile/2"`, "bad part profile: the file ends inside its JSON object: cut short?"},
		{"not an object", "[1]", "bad part profile: json: cannot unmarshal array"},
		{"trailing data", good + "{}", "data after the profile"},
		{"unknown field", strings.Replace(good, `"name"`, `"nmae"`, 1), `unknown field "nmae"`},
		{"format", strings.Replace(good, ProfileFormat, "cmcsync-part-profile/9", 1),
			`format "cmcsync-part-profile/9": want "cmcsync-part-profile/2" (or "cmcsync-part-profile/1", read and converted)`},
		{"no format", strings.Replace(good, `"format": "cmcsync-part-profile/2",`, "", 1), "no format member"},
		{"format null", strings.Replace(good, `"cmcsync-part-profile/2"`, "null", 1), "no format member"},
		{"format a number", strings.Replace(good, `"cmcsync-part-profile/2"`, "2", 1), "cannot unmarshal number"},
		// A /2 file tagged /1 and a /1 file tagged /2 are refused, never misread.
		{"v2 members tagged v1", strings.Replace(good, ProfileFormat, ProfileFormatV1, 1), `unknown field "command_overhead_seconds" (format cmcsync-part-profile/1)`},
		{"v1 members tagged v2", strings.Replace(v1, ProfileFormatV1, ProfileFormat, 1),
			`unknown field "command_overhead_us" (format cmcsync-part-profile/2 has durations in seconds, *_seconds; *_us members, in microseconds, are format cmcsync-part-profile/1's)`},
		{"a v1 member in v2", strings.Replace(good, `"page_program_seconds"`, `"page_program_us"`, 1), `unknown field "page_program_us"`},
		{"missing member", strings.Replace(good, `"endurance": 100000,`, "", 1), "missing member endurance"},
		{"missing time", strings.Replace(good, `"command_overhead_seconds": 9.6e-7,`, "", 1), "missing member command_overhead_seconds"},
		{"null time", strings.Replace(good, `"command_overhead_seconds": 9.6e-7`, `"command_overhead_seconds": null`, 1), "missing member command_overhead_seconds"},
		{"missing corner time", strings.Replace(good, `"page_program_seconds": 0.000704,`, "", 1), "missing member typical.page_program_seconds"},
		{"null corner", strings.Replace(good, `"max": {`, `"max": null, "x": {`, 1), `unknown field "x"`},
		{"missing v1 member", strings.Replace(v1, `"sector_erase_us": 64195.786`, `"block_erase_us": 1`, 1), "missing member typical.sector_erase_us"},
		{"missing measurement stat", strings.Replace(v1, `"p90_us": 1.6,`, "", 1), "missing member calibration.measurements[0].p90_us"},
		{"kind", strings.Replace(good, `"kind": "nor"`, `"kind": "NOR"`, 1), `kind "NOR": want nor or nand`},
		{"name", strings.Replace(good, `"name": "w25q256jv"`, `"name": "W25Q 256"`, 1), "use lower-case letters"},
		{"no source", strings.Replace(good, `"source": "table"`, `"source": " "`, 1), "no source"},
		{"negative time", strings.Replace(good, `"page_program_seconds": 0.000704`, `"page_program_seconds": -0.000704`, 1), "typical.page_program_seconds -0.000704: want a number of seconds from 0 to 1e+06"},
		{"huge time", strings.Replace(good, `"sector_erase_seconds": 0.064`, `"sector_erase_seconds": 1e300`, 1), "typical.sector_erase_seconds 1e+300"},
		{"absurd time", strings.Replace(good, `"sector_erase_seconds": 0.064`, `"sector_erase_seconds": 1000001`, 1), "typical.sector_erase_seconds 1.000001e+06"},
		{"not a number", strings.Replace(good, `"sector_erase_seconds": 0.064`, `"sector_erase_seconds": "NaN"`, 1), "cannot unmarshal string"},
		{"v1 negative time", strings.Replace(v1, `"page_program_us": 705.37`, `"page_program_us": -705.37`, 1),
			"(format cmcsync-part-profile/1): typical.page_program_us -705.37: want a number of microseconds from 0 to 1e+12"},
		{"v1 huge time", strings.Replace(v1, `"command_overhead_us": 0.96`, `"command_overhead_us": 2e12`, 1), "command_overhead_us 2e+12"},
		{"v1 negative stat", strings.Replace(strings.Replace(v1, `"min_us": 1.6`, `"min_us": -1`, 1), `"p10_us": 1.6`, `"p10_us": -1`, 1),
			"calibration: measurement \"read\" of 16 bytes: min, p10, median, p90, max [-1 -1 1.6 1.6 1.6] (microseconds) are not in order"},
		{"v1 mean", strings.Replace(v1, `"mean_us": 1.6`, `"mean_us": 1.7`, 1), "mean 1.7 outside min 1.6 and max 1.6 (microseconds)"},
		{"erase size", strings.Replace(good, `"erase_size": 4096`, `"erase_size": 4000`, 1), "erase size 4000 is not a positive power of two"},
		{"size", strings.Replace(good, `"size": 33554432`, `"size": 68719476736`, 1), "at most 4GiB"},
		{"bus lines", strings.Replace(good, `"lines": 4`, `"lines": 3`, 1), "bus of 3 lines"},
		{"bus clock missing", strings.Replace(good, `,
    "clock_hz": 50000000`, "", 1), "missing member bus.clock_hz"},
		{"calibration out of order", strings.Replace(good, `"source": "table"`, cal, 1), "not in order"},
		{"calibration missing", strings.Replace(good, `"source": "table"`, strings.Replace(cal, `"warmup": 0,`, "", 1), 1), "missing member calibration.warmup"},
		{"negative stat", strings.Replace(good, `"source": "table"`, strings.ReplaceAll(strings.ReplaceAll(cal, "5e-6", "-1"), "4e-6", "-1"), 1),
			"min, p10, median, p90, max [-1 -1 6e-06 7e-06 8e-06] (seconds) are not in order from 0 to 1e+06"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeProfile(strings.NewReader(tc.in))
			require.ErrorIs(t, err, ErrBadProfile)
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, err = LoadProfile(filepath.Join(t.TempDir(), "missing.json"))
	require.ErrorContains(t, err, "part profile: open")
}

// readTestdata returns the file testdata/NAME.
func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(b)
}

// TestProfileV1ReadsAsV2: a /1 profile written by calibrate before /2
// (testdata/*-v1.json) loads to the same profile as its /2 equivalent
// (testdata/*-v2.json: every _us member renamed _seconds and divided by
// 10^6, by a script, not this package), the same part to the nanosecond,
// and reads back unchanged after it is written as /2.
func TestProfileV1ReadsAsV2(t *testing.T) {
	for _, tc := range []struct{ v1, v2 string }{
		{"profile-v1.json", "profile-v2.json"},
		{"profile-nand-v1.json", "profile-nand-v2.json"},
		{"profile-builtin-v1.json", "profile-builtin-v2.json"}, // bus, block erase
	} {
		t.Run(tc.v1, func(t *testing.T) {
			require.Contains(t, readTestdata(t, tc.v1), `"format": "cmcsync-part-profile/1"`)
			old, err := LoadProfile(filepath.Join("testdata", tc.v1))
			require.NoError(t, err)
			cur, err := LoadProfile(filepath.Join("testdata", tc.v2))
			require.NoError(t, err)
			require.Equal(t, ProfileFormat, old.Format)
			require.Equal(t, cur, old)
			if old.Bus == nil { // calibrated: raw statistics, no bus
				require.NotNil(t, old.Calibration)
				require.NotEmpty(t, old.Calibration.Measurements)
			}
			p, err := old.Part()
			require.NoError(t, err)
			q, err := cur.Part()
			require.NoError(t, err)
			require.Equal(t, q, p)
			require.NoError(t, p.CheckPlausible())

			var buf bytes.Buffer
			require.NoError(t, old.Encode(&buf))
			require.Contains(t, buf.String(), `"format": "cmcsync-part-profile/2"`)
			require.NotContains(t, buf.String(), `_us"`)
			back, err := DecodeProfile(&buf)
			require.NoError(t, err)
			require.Equal(t, old, back)
		})
	}
	// The figures a reader sees: 705.37 µs is 0.00070537 s, 705.37 µs to
	// the nanosecond.
	pr, err := LoadProfile(filepath.Join("testdata", "profile-v1.json"))
	require.NoError(t, err)
	require.Equal(t, 0.00070537, pr.Typical.PageProgramSeconds)
	require.Equal(t, 96e-8, pr.CommandOverheadSeconds)
	p, err := pr.Part()
	require.NoError(t, err)
	require.Equal(t, 705370*time.Nanosecond, p.Typical.PageProgram)
	require.Equal(t, 960*time.Nanosecond, p.Typical.CommandOverhead)
	// The /1 file of a built-in part (ProfileOf before /2) is that part.
	pr, err = LoadProfile(filepath.Join("testdata", "profile-builtin-v1.json"))
	require.NoError(t, err)
	p, err = pr.Part()
	require.NoError(t, err)
	require.Equal(t, mustPart(t, norName), p)
}

// TestProfileSecondsKeepPrecision: durations to the nanosecond, up to the
// bound, survive the seconds and come back exact.
func TestProfileSecondsKeepPrecision(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 999, 705370, 123456789, 3*time.Hour + 7, time.Duration(maxProfileSeconds * 1e9)} {
		require.Equal(t, d, s2d(d2s(d)), "%v", d)
	}
}

// TestProfileImplausibleButWellFormed: a profile with an emulator's
// instant erase decodes (it is well-formed) and is refused by
// CheckPlausible.
func TestProfileImplausibleButWellFormed(t *testing.T) {
	pr, err := ProfileOf(mustPart(t, norName), "qemu")
	require.NoError(t, err)
	pr.Typical.SectorEraseSeconds, pr.Max.SectorEraseSeconds = 40e-6, 90e-6
	var buf bytes.Buffer
	require.NoError(t, pr.Encode(&buf))
	back, err := DecodeProfile(&buf)
	require.NoError(t, err)
	p, err := back.Part()
	require.NoError(t, err)
	require.ErrorIs(t, p.CheckPlausible(), ErrImplausible)
}

func FuzzDecodeProfile(f *testing.F) {
	for _, p := range Parts() {
		pr, err := ProfileOf(p, "seed")
		if err != nil {
			f.Fatal(err)
		}
		var buf bytes.Buffer
		if err := pr.Encode(&buf); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	for _, name := range []string{"profile-v1.json", "profile-v2.json", "profile-nand-v1.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"format":"cmcsync-part-profile/1"}`))
	f.Add([]byte(`{"format":"cmcsync-part-profile/2","command_overhead_us":1}`))
	f.Add([]byte(`{"calibration":{"measurements":[{"op":"x","count":1,"mean_us":1e309}]}}`))
	f.Add([]byte(`{"format":"cmcsync-part-profile/2","calibration":{"measurements":[{"op":"x","count":1,"mean_seconds":1e309}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		pr, err := DecodeProfile(bytes.NewReader(data))
		if err != nil {
			return
		}
		p, err := pr.Part()
		require.NoError(t, err)
		require.NoError(t, p.Validate())
		_ = p.CheckPlausible()
		var buf bytes.Buffer
		require.NoError(t, pr.Encode(&buf))
		again, err := DecodeProfile(&buf)
		require.NoError(t, err, buf.String())
		require.Equal(t, ProfileFormat, pr.Format, "a /1 file is returned as /2")
		q, err := again.Part()
		require.NoError(t, err)
		require.Equal(t, p, q)
	})
}
