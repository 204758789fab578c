package chipstate

// Places by name: a chip is opened as one MTD device covering it whole
// (for instance a "flash0" partition spanning the chip, or the master
// device); the other partitions of the same chip are found in sysfs
// (/sys/class/mtd/mtdN: name, offset, size, and the device link naming
// the chip), and their offsets taken relative to the chip device's own.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/cmcsync/cmcsync/config"
	"github.com/cmcsync/cmcsync/source/fwimage"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// DefaultSysfs is where Linux lists MTD devices.
const DefaultSysfs = "/sys/class/mtd"

// ErrPlace is wrapped by every error about a place or identity spec.
var ErrPlace = errors.New("bad place")

// Partition is one MTD partition of a chip.
type Partition struct {
	Name      string
	Dev       string // e.g. "mtd5"
	Off, Size int64  // relative to the chip device
}

// ChipPartitions lists the partitions of the chip whose MTD device is dev
// ("/dev/mtd7" or "mtd7"), from the sysfs folder sysfs (DefaultSysfs when
// ""): every MTD device on the same chip (the same device link) that lies
// inside dev's range, in offset order.
func ChipPartitions(sysfs, dev string) ([]Partition, error) {
	if sysfs == "" {
		sysfs = DefaultSysfs
	}
	base := filepath.Base(dev)
	chipOff, chipSize, chipLink, err := readDev(sysfs, base)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrPlace, dev, err)
	}
	ents, err := os.ReadDir(sysfs)
	if err != nil {
		return nil, fmt.Errorf("%w: list MTD devices: %w", ErrPlace, err)
	}
	var out []Partition
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, "mtd") || strings.HasSuffix(n, "ro") {
			continue
		}
		off, size, link, err := readDev(sysfs, n)
		if err != nil || link != chipLink || off < chipOff || off+size > chipOff+chipSize {
			continue
		}
		name, err := os.ReadFile(filepath.Join(sysfs, n, "name"))
		if err != nil {
			continue
		}
		out = append(out, Partition{Name: strings.TrimSpace(string(name)), Dev: n, Off: off - chipOff, Size: size})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Off < out[j].Off || out[i].Off == out[j].Off && out[i].Size < out[j].Size
	})
	return out, nil
}

// readDev reads an MTD device's offset in its chip (0 without the
// attribute), size and device link target.
func readDev(sysfs, n string) (off, size int64, link string, err error) {
	d := filepath.Join(sysfs, n)
	if size, err = readInt(filepath.Join(d, "size")); err != nil {
		return 0, 0, "", err
	}
	if o, err := readInt(filepath.Join(d, "offset")); err == nil {
		off = o
	}
	link, _ = os.Readlink(filepath.Join(d, "device"))
	return off, size, filepath.Base(link), nil
}

func readInt(p string) (int64, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 0, 64)
}

// parseNum parses an offset or size as the offset flags and the
// configuration file do (config.ParseSize: a hex (0x) or decimal number,
// or a size with a K, M or G suffix), and 0.
func parseNum(s string) (int64, error) {
	if strings.TrimSpace(s) == "0" {
		return 0, nil
	}
	return config.ParseSize(s)
}

// PlaceRange returns the range a place names: a partition's name in
// parts, or "OFF+SIZE" (numbers in hex, decimal or with a K, M or G
// suffix, e.g. 0x6a00000+4MiB). It is the one parser of places: --info,
// --store and the image identity's PLACE all go through it.
func PlaceRange(parts []Partition, place string) (off, size int64, err error) {
	if o, s, ok := strings.Cut(place, "+"); ok {
		if off, err = parseNum(o); err == nil {
			size, err = parseNum(s)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("%w: %q: want NAME or OFF+SIZE: %w", ErrPlace, place, err)
		}
		return off, size, nil
	}
	var names []string
	for _, p := range parts {
		if p.Name == place {
			return p.Off, p.Size, nil
		}
		names = append(names, p.Name)
	}
	if len(names) == 0 {
		// A simulated chip, or an MTD device that is one partition.
		return 0, 0, fmt.Errorf("%w: no partition %q: this chip has no partitions (give the place as OFF+SIZE, e.g. 0x100000+8M)", ErrPlace, place)
	}
	return 0, 0, fmt.Errorf("%w: no partition %q on this chip (its partitions: %s)", ErrPlace, place, strings.Join(names, ", "))
}

// IdentityUsage describes the image identity specs Identity accepts.
const IdentityUsage = "header (cmcsync's CMCFWIMG header at 0, simulator chips), none, uimage:PLACE, fit:PLACE, image:PLACE (a uImage or a FIT) or sha256:PLACE, PLACE a partition name or OFF+SIZE"

// Identity returns the image identity source spec names (IdentityUsage),
// its places resolved in parts. The source reads the image through the
// engine's flash of each chip (the chip device), at the same place on
// both chips.
func Identity(spec string, parts []Partition) (engine.ImageIdentity, error) {
	switch spec {
	case "header":
		return engine.HeaderIdentity{}, nil
	case "none":
		return engine.NoImageIdentity{}, nil
	}
	kind, place, ok := strings.Cut(spec, ":")
	if !ok {
		return nil, fmt.Errorf("%w: image identity %q: want %s", ErrPlace, spec, IdentityUsage)
	}
	switch kind {
	case "uimage", "fit", "image", "sha256":
	default:
		// Said before the place: "bogus:kernel" is a kind to fix, whatever
		// the chip's partitions.
		return nil, fmt.Errorf("%w: image identity kind %q: want %s", ErrPlace, kind, IdentityUsage)
	}
	off, size, err := PlaceRange(parts, place)
	if err != nil {
		return nil, fmt.Errorf("image identity: %w", err)
	}
	switch kind {
	case "uimage":
		return fwimage.Source{Off: off, Size: size, Kind: fwimage.FormatUImage}, nil
	case "fit":
		return fwimage.Source{Off: off, Size: size, Kind: fwimage.FormatFIT}, nil
	case "image":
		return fwimage.Source{Off: off, Size: size}, nil
	case "sha256":
		return engine.RangeDigest{Off: off, Size: size}, nil
	}
	return nil, fmt.Errorf("%w: image identity kind %q: want %s", ErrPlace, kind, IdentityUsage)
}
