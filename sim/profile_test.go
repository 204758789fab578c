package sim

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
		Measurements: []Measurement{{Op: "program", Bytes: 256, Count: 640, MinUS: 600, P10US: 650, MedianUS: 705, P90US: 760, MaxUS: 4000, MeanUS: 720}}}
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
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "bad part profile: EOF"},
		{"not json", "part=w25q256jv", "bad part profile: invalid character"},
		{"trailing data", good + "{}", "data after the profile"},
		{"unknown field", strings.Replace(good, `"name"`, `"nmae"`, 1), `unknown field "nmae"`},
		{"format", strings.Replace(good, ProfileFormat, "cmcsync-part-profile/9", 1), `format "cmcsync-part-profile/9"`},
		{"kind", strings.Replace(good, `"kind": "nor"`, `"kind": "NOR"`, 1), `kind "NOR": want nor or nand`},
		{"name", strings.Replace(good, `"name": "w25q256jv"`, `"name": "W25Q 256"`, 1), "use lower-case letters"},
		{"no source", strings.Replace(good, `"source": "table"`, `"source": " "`, 1), "no source"},
		{"negative time", strings.Replace(good, `"page_program_us": 704`, `"page_program_us": -704`, 1), "typical.page_program_us -704"},
		{"huge time", strings.Replace(good, `"sector_erase_us": 64000`, `"sector_erase_us": 1e300`, 1), "typical.sector_erase_us 1e+300"},
		{"erase size", strings.Replace(good, `"erase_size": 4096`, `"erase_size": 4000`, 1), "erase size 4000 is not a positive power of two"},
		{"size", strings.Replace(good, `"size": 33554432`, `"size": 68719476736`, 1), "at most 4GiB"},
		{"bus lines", strings.Replace(good, `"lines": 4`, `"lines": 3`, 1), "bus of 3 lines"},
		{"calibration out of order", strings.Replace(good, `"source": "table"`,
			`"source": "table", "calibration": {"device": "d", "geometry": "g", "scratch": "0+4K", "at": "", "clock": "virtual", "warmup": 0,
			"measurements": [{"op": "erase", "bytes": 4096, "count": 3, "min_us": 5, "p10_us": 4, "median_us": 6, "p90_us": 7, "max_us": 8, "mean_us": 6}]}`, 1),
			"not in order"},
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

// TestProfileImplausibleButWellFormed: a profile with an emulator's
// instant erase decodes (it is well-formed) and is refused by
// CheckPlausible.
func TestProfileImplausibleButWellFormed(t *testing.T) {
	pr, err := ProfileOf(mustPart(t, norName), "qemu")
	require.NoError(t, err)
	pr.Typical.SectorEraseUS, pr.Max.SectorEraseUS = 40, 90
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
	f.Add([]byte(`{"format":"cmcsync-part-profile/1"}`))
	f.Add([]byte(`{"calibration":{"measurements":[{"op":"x","count":1,"mean_us":1e309}]}}`))
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
		q, err := again.Part()
		require.NoError(t, err)
		require.Equal(t, p, q)
	})
}
