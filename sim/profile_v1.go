package sim

import "fmt"

// profileV1 is a ProfileFormatV1 file: Profile with every duration in
// microseconds, in members ending _us. It is only read (DecodeProfile);
// profile converts it to a ProfileFormat Profile.
type profileV1 struct {
	Format            string          `json:"format"`
	Name              string          `json:"name"`
	Kind              string          `json:"kind"`
	Size              int64           `json:"size"`
	EraseSize         int64           `json:"erase_size"`
	BlockEraseSize    int64           `json:"block_erase_size,omitempty"`
	PageSize          int64           `json:"page_size"`
	WriteSize         int64           `json:"write_size"`
	Endurance         int             `json:"endurance"`
	BusBytesPerSec    int64           `json:"bus_bytes_per_sec"`
	CommandOverheadUS float64         `json:"command_overhead_us"`
	Bus               *ProfileBus     `json:"bus,omitempty"`
	Typical           profileTimingV1 `json:"typical"`
	Max               profileTimingV1 `json:"max"`
	Source            string          `json:"source"`
	Emulated          bool            `json:"emulated,omitempty"`
	Notes             []string        `json:"notes,omitempty"`
	Calibration       *calibrationV1  `json:"calibration,omitempty"`
}

type profileTimingV1 struct {
	PageProgramUS float64 `json:"page_program_us"`
	SectorEraseUS float64 `json:"sector_erase_us"`
	BlockEraseUS  float64 `json:"block_erase_us,omitempty"`
	PageReadUS    float64 `json:"page_read_us,omitempty"`
}

type calibrationV1 struct {
	Device       string          `json:"device"`
	Geometry     string          `json:"geometry"`
	Scratch      string          `json:"scratch"`
	At           string          `json:"at"`
	Clock        string          `json:"clock"`
	Warmup       int             `json:"warmup"`
	Measurements []measurementV1 `json:"measurements"`
}

type measurementV1 struct {
	Op       string  `json:"op"`
	Bytes    int64   `json:"bytes"`
	Count    int     `json:"count"`
	MinUS    float64 `json:"min_us"`
	P10US    float64 `json:"p10_us"`
	MedianUS float64 `json:"median_us"`
	P90US    float64 `json:"p90_us"`
	MaxUS    float64 `json:"max_us"`
	MeanUS   float64 `json:"mean_us"`
}

// maxProfileUS is maxProfileSeconds in microseconds, the bound /1 had.
const maxProfileUS = maxProfileSeconds * 1e6

// us2s converts microseconds to seconds.
func us2s(us float64) float64 { return us / 1e6 }

// profile checks v's times in its own units and member names (so an error
// names what the file says) and returns it as a ProfileFormat profile;
// the caller checks the rest (Profile.Part). Errors wrap ErrBadProfile.
func (v profileV1) profile() (Profile, error) {
	bad := func(err error) (Profile, error) {
		return Profile{}, fmt.Errorf("%w %q (format %s): %w", ErrBadProfile, v.Name, ProfileFormatV1, err)
	}
	for _, t := range []struct {
		name string
		us   float64
	}{
		{"command_overhead_us", v.CommandOverheadUS},
		{"typical.page_program_us", v.Typical.PageProgramUS}, {"typical.sector_erase_us", v.Typical.SectorEraseUS},
		{"typical.block_erase_us", v.Typical.BlockEraseUS}, {"typical.page_read_us", v.Typical.PageReadUS},
		{"max.page_program_us", v.Max.PageProgramUS}, {"max.sector_erase_us", v.Max.SectorEraseUS},
		{"max.block_erase_us", v.Max.BlockEraseUS}, {"max.page_read_us", v.Max.PageReadUS},
	} {
		if err := checkTime(t.name, t.us, "microseconds", maxProfileUS); err != nil {
			return bad(err)
		}
	}
	pr := Profile{Format: ProfileFormat, Name: v.Name, Kind: v.Kind, Size: v.Size, EraseSize: v.EraseSize,
		BlockEraseSize: v.BlockEraseSize, PageSize: v.PageSize, WriteSize: v.WriteSize, Endurance: v.Endurance,
		BusBytesPerSec: v.BusBytesPerSec, CommandOverheadSeconds: us2s(v.CommandOverheadUS), Bus: v.Bus,
		Typical: v.Typical.timing(), Max: v.Max.timing(), Source: v.Source, Emulated: v.Emulated, Notes: v.Notes}
	if v.Calibration != nil {
		c := v.Calibration
		pr.Calibration = &Calibration{Device: c.Device, Geometry: c.Geometry, Scratch: c.Scratch, At: c.At, Clock: c.Clock, Warmup: c.Warmup}
		for _, m := range c.Measurements {
			if err := checkStats(m.Op, m.Bytes, m.Count, "microseconds", maxProfileUS,
				[]float64{m.MinUS, m.P10US, m.MedianUS, m.P90US, m.MaxUS}, m.MeanUS); err != nil {
				return bad(fmt.Errorf("calibration: %w", err))
			}
			pr.Calibration.Measurements = append(pr.Calibration.Measurements, Measurement{Op: m.Op, Bytes: m.Bytes, Count: m.Count,
				MinSeconds: us2s(m.MinUS), P10Seconds: us2s(m.P10US), MedianSeconds: us2s(m.MedianUS),
				P90Seconds: us2s(m.P90US), MaxSeconds: us2s(m.MaxUS), MeanSeconds: us2s(m.MeanUS)})
		}
	}
	return pr, nil
}

func (t profileTimingV1) timing() ProfileTiming {
	return ProfileTiming{PageProgramSeconds: us2s(t.PageProgramUS), SectorEraseSeconds: us2s(t.SectorEraseUS),
		BlockEraseSeconds: us2s(t.BlockEraseUS), PageReadSeconds: us2s(t.PageReadUS)}
}
