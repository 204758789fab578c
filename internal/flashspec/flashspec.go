package flashspec

import (
	"fmt"
	"strings"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/hal/mtd"
	"github.com/cmcsync/cmcsync/sim"
)

// Backends.
const (
	Sim = "sim"
	MTD = "mtd"
)

// Usage is the spec syntax, for flag help and error messages.
const Usage = "sim:part=NAME|profile=PATH[,size=N][,file=PATH][,timing=max|spread][,name=N][,erase=4k|64k], mtd:/dev/mtdN or mtd:name=PARTITION"

// simKeys are the keys of a sim spec.
var simKeys = []string{"part", "size", "file", "timing", "name", "erase", "profile"}

// Spec is a parsed flash spec.
type Spec struct {
	Backend string // Sim or MTD
	Part    string // sim: part profile name, lower case
	// Profile (sim, instead of Part) is a part profile file (sim.Profile,
	// as cmcsync calibrate writes it).
	Profile string
	Size    int64  // sim: bytes; 0 means the whole part
	File    string // sim: image file to persist to; "" keeps the chip in memory
	Device  string // mtd: character device path, e.g. "/dev/mtd6"
	// Partition (mtd, instead of Device) is an MTD partition's name as
	// /proc/mtd lists it, e.g. "flash1" (mtd:name=flash1); Resolve finds
	// its device.
	Partition string
	MaxTiming bool // sim: charge the maximum timings
	// Spread (sim, timing=spread) draws each operation's time between the
	// typical and maximum timings (sim.Options.Spread).
	Spread bool
	Name   string // sim: device name for messages; "" means the part name
	// EraseModel (sim) is the erase unit Linux's MTD layer uses:
	// sim.Erase4K (the default, erase=4k) or sim.Erase64K (erase=64k).
	EraseModel sim.EraseModel
}

// Parse parses a flash spec (see the package documentation).
func Parse(s string) (Spec, error) {
	backend, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Spec{}, fmt.Errorf("flash spec %q: want %s", s, Usage)
	}
	var sp Spec
	switch backend {
	case Sim:
		var err error
		if sp, err = parseSim(rest); err != nil {
			return Spec{}, fmt.Errorf("flash spec %q: %w", s, err)
		}
	case MTD:
		sp = Spec{Backend: MTD, Device: rest}
		if name, ok := strings.CutPrefix(rest, "name="); ok {
			sp = Spec{Backend: MTD, Partition: name}
		}
	default:
		return Spec{}, fmt.Errorf("flash spec %q: unknown backend %q (want sim or mtd: %s)", s, backend, Usage)
	}
	if err := sp.Validate(); err != nil {
		return Spec{}, fmt.Errorf("flash spec %q: %w", s, err)
	}
	return sp, nil
}

func parseSim(rest string) (Spec, error) {
	sp := Spec{Backend: Sim}
	if rest == "" {
		return sp, nil // Validate asks for the part
	}
	items, err := splitItems(rest)
	if err != nil {
		return sp, err
	}
	seen := map[string]bool{}
	prev := item{}
	for _, it := range items {
		if err := sp.setSim(it, seen); err != nil {
			// A path or name with an unquoted comma reads as two items:
			// the error of the second says so.
			return sp, fmt.Errorf("%w%s", err, commaHint(prev, it))
		}
		prev = it
	}
	return sp, nil
}

// setSim sets the key of one item of a sim spec.
func (sp *Spec) setSim(it item, seen map[string]bool) error {
	key, val := it.key, it.val
	if !it.hasEq {
		return fmt.Errorf("%q is not key=value (keys: %s)", it.raw, strings.Join(simKeys, ", "))
	}
	if seen[key] {
		return fmt.Errorf("key %q given twice", key)
	}
	seen[key] = true
	if val == "" && isSimKey(key) {
		return fmt.Errorf("key %q has an empty value", key)
	}
	switch key {
	case "part":
		sp.Part = strings.ToLower(val)
	case "profile":
		sp.Profile = val
	case "size":
		n, err := hal.ParseSize(val)
		if err != nil {
			return err
		}
		sp.Size = n
	case "file":
		sp.File = val
	case "timing":
		switch val {
		case "max":
			sp.MaxTiming = true
		case "spread":
			sp.Spread = true
		case "typical":
		default:
			return fmt.Errorf("timing=%s: want timing=typical, timing=max or timing=spread", val)
		}
	case "name":
		sp.Name = val
	case "erase":
		m, err := sim.ParseEraseModel(val)
		if err != nil {
			return fmt.Errorf("erase=%s: %w", val, err)
		}
		sp.EraseModel = m
	default:
		return fmt.Errorf("unknown key %q (allowed: %s)", key, strings.Join(simKeys, ", "))
	}
	return nil
}

func isSimKey(k string) bool {
	for _, s := range simKeys {
		if s == k {
			return true
		}
	}
	return false
}

// Validate checks a Spec made by hand as Parse checks a parsed one: a known
// backend; for sim a known part or a profile file that loads and is
// physically plausible (sim.Part.CheckPlausible), not both, an erase model
// the part has, a size that is a positive multiple of the erase unit and
// at most the part's size and one timing corner; for mtd an absolute
// device path and nothing else.
func (s Spec) Validate() error {
	switch s.Backend {
	case Sim:
		if s.Device != "" {
			return fmt.Errorf("a sim spec has no device (got %q)", s.Device)
		}
		p, err := s.SimPart()
		if err != nil {
			return err
		}
		if s.MaxTiming && s.Spread {
			return fmt.Errorf("timing=max and timing=spread: choose one")
		}
		unit, err := p.EraseUnit(s.EraseModel)
		if err != nil {
			return fmt.Errorf("erase=%v: %w", s.EraseModel, err)
		}
		switch {
		case s.Size < 0:
			return fmt.Errorf("size %d is negative", s.Size)
		case s.Size > p.Size:
			return fmt.Errorf("size %s is larger than the %s (%s)", FormatSize(s.Size), p.Name, FormatSize(p.Size))
		case s.Size%unit != 0:
			return fmt.Errorf("size %s is not a multiple of the %s erase size %s (erase=%v)", FormatSize(s.Size), p.Name, FormatSize(unit), s.EraseModel)
		}
	case MTD:
		if s.Part != "" || s.Profile != "" || s.Size != 0 || s.File != "" || s.MaxTiming || s.Spread || s.Name != "" || s.EraseModel != sim.Erase4K {
			return fmt.Errorf("an mtd spec takes only the device path (%s)", Usage)
		}
		switch {
		case s.Partition != "" && s.Device != "":
			return fmt.Errorf("mtd device %q and partition name %q: give one", s.Device, s.Partition)
		case s.Partition != "":
			if strings.ContainsAny(s.Partition, "\"\n") {
				return fmt.Errorf("mtd partition name %q: /proc/mtd cannot list a name with a quote or a newline", s.Partition)
			}
		case s.Device == "" && s.Partition == "":
			return fmt.Errorf("mtd spec without a device: want mtd:/dev/mtdN or mtd:name=PARTITION")
		case !strings.HasPrefix(s.Device, "/"):
			return fmt.Errorf("mtd device %q: want an absolute path such as mtd:/dev/mtd6, or mtd:name=PARTITION", s.Device)
		}
	default:
		return fmt.Errorf("unknown backend %q (want sim or mtd: %s)", s.Backend, Usage)
	}
	return nil
}

// SimPart returns the part a sim spec names: from sim's table (part=) or
// from a profile file (profile=), which must be well-formed and
// physically plausible.
func (s Spec) SimPart() (sim.Part, error) {
	switch {
	case s.Part != "" && s.Profile != "":
		return sim.Part{}, fmt.Errorf("part=%s and profile=%s: give one", s.Part, s.Profile)
	case s.Profile != "":
		pr, err := sim.LoadProfile(s.Profile)
		if err != nil {
			return sim.Part{}, err
		}
		p, err := pr.Part()
		if err != nil {
			return sim.Part{}, err
		}
		if err := p.CheckPlausible(); err != nil {
			return sim.Part{}, fmt.Errorf("profile %s (%s): %w; the simulator refuses it (cmcsync bench --allow-implausible runs such a profile anyway)", s.Profile, pr.Source, err)
		}
		return p, nil
	case s.Part == "":
		return sim.Part{}, fmt.Errorf("a sim spec needs part=NAME (known parts: %s) or profile=PATH", strings.Join(sim.PartNames(), ", "))
	}
	p, err := sim.LookupPart(s.Part)
	if err != nil {
		return sim.Part{}, err
	}
	if s.Part != p.Name {
		return sim.Part{}, fmt.Errorf("part %q: write it in lower case, %q", s.Part, p.Name)
	}
	return p, nil
}

// String formats s as a spec that Parse turns back into s.
func (s Spec) String() string {
	if s.Backend == MTD {
		if s.Partition != "" {
			return MTD + ":name=" + s.Partition
		}
		return MTD + ":" + s.Device
	}
	var items []string
	if s.Part != "" {
		items = append(items, "part="+s.Part)
	}
	if s.Profile != "" {
		items = append(items, "profile="+quoteValue(s.Profile))
	}
	if s.Size != 0 {
		items = append(items, "size="+FormatSize(s.Size))
	}
	if s.File != "" {
		items = append(items, "file="+quoteValue(s.File))
	}
	if s.MaxTiming {
		items = append(items, "timing=max")
	}
	if s.Spread {
		items = append(items, "timing=spread")
	}
	if s.Name != "" {
		items = append(items, "name="+quoteValue(s.Name))
	}
	if s.EraseModel != sim.Erase4K {
		items = append(items, "erase="+s.EraseModel.String())
	}
	return s.Backend + ":" + strings.Join(items, ",")
}

// FormatSize formats n with the largest of the G, M, K suffixes that
// divides it, as hal.ParseSize reads it back: "4M", "64K", "4097".
func FormatSize(n int64) string {
	return strings.TrimSuffix(hal.FormatSize(n), "iB") // "4MiB" -> "4M"
}

// Open opens the flash s names. Sim specs run on clock (chips that work
// together share one; nil gives the chip its own); a file is created
// erased if missing, else loaded (its size must match). mtd specs open the
// device read-write (Linux only). The caller closes the flash (hal.Close).
func Open(s Spec, clock *sim.Clock) (hal.Flash, error) {
	return open(s, clock, false)
}

// OpenReadOnly opens the flash s names for a caller that only reads
// (inspect): a sim image file is loaded into memory and never created,
// written or locked (sim.OpenFileReadOnly; a missing file is an error
// wrapping fs.ErrNotExist). mtd specs open read-only (mtd.OpenReadOnly,
// O_RDONLY): a write, erase or bad-block mark through the flash fails
// with an error wrapping mtd.ErrReadOnly, and the kernel would refuse one.
func OpenReadOnly(s Spec, clock *sim.Clock) (hal.Flash, error) {
	return open(s, clock, true)
}

func open(s Spec, clock *sim.Clock, readOnly bool) (hal.Flash, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("flash spec %q: %w", s, err)
	}
	if s.Backend == MTD {
		s, err := s.Resolve(mtd.ProcMTD)
		if err != nil {
			return nil, err
		}
		openMTD := mtd.Open
		if readOnly {
			openMTD = mtd.OpenReadOnly
		}
		d, err := openMTD(s.Device)
		if err != nil {
			return nil, err
		}
		return d, nil
	}
	p, err := s.SimPart()
	if err != nil {
		return nil, err
	}
	o := sim.Options{Part: p, Size: s.Size, MaxTiming: s.MaxTiming, Spread: s.Spread, EraseModel: s.EraseModel, Clock: clock, Name: s.Name}
	var f *sim.Flash
	switch {
	case s.File != "" && readOnly:
		f, err = sim.OpenFileReadOnly(s.File, o)
	case s.File != "":
		f, err = sim.OpenFile(s.File, o)
	default:
		f, err = sim.New(o)
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Resolve returns s with the device of its MTD partition name looked up in
// the /proc/mtd file at procMTD (mtd.ProcMTD on a live system); other specs
// come back unchanged.
func (s Spec) Resolve(procMTD string) (Spec, error) {
	if s.Backend != MTD || s.Partition == "" {
		return s, nil
	}
	dev, err := mtd.ResolveName(procMTD, s.Partition)
	if err != nil {
		return s, fmt.Errorf("flash spec %q: %w", s, err)
	}
	s.Device, s.Partition = dev, ""
	return s, nil
}

// Path is the file that holds the chip's contents: the MTD device (after
// Resolve), the sim image file, or "" for a chip kept in memory.
func (s Spec) Path() string {
	if s.Backend == MTD {
		return s.Device
	}
	return s.File
}
