package mtd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// ProcMTD is the kernel's list of MTD devices.
const ProcMTD = "/proc/mtd"

// Partition is one line of /proc/mtd: "mtd5: 08000000 00001000 "flash0"".
type Partition struct {
	Index     int    // N of mtdN
	Size      int64  // bytes
	EraseSize int64  // bytes
	Name      string // the partition's name, without the quotes
}

// Device returns the partition's character device, "/dev/mtdN".
func (p Partition) Device() string { return fmt.Sprintf("/dev/mtd%d", p.Index) }

// ErrNoPartition is wrapped by FindPartition's error when no partition has
// the name; ErrAmbiguousPartition when several have it.
var (
	ErrNoPartition        = errors.New("no MTD partition of that name")
	ErrAmbiguousPartition = errors.New("several MTD partitions have that name")
)

// ParseProcMTD parses the text of /proc/mtd: a header line "dev: size
// erasesize name", then one line per device, "mtdN: SIZE ERASESIZE "NAME""
// with SIZE and ERASESIZE in hexadecimal without 0x. A malformed line is an
// error naming its line number; an empty list (no MTD devices) is not.
func ParseProcMTD(b []byte) ([]Partition, error) {
	var parts []Partition
	sc := bufio.NewScanner(bytes.NewReader(b))
	seen := map[int]bool{}
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if n == 1 && strings.HasPrefix(line, "dev:") {
			continue
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		p, err := parseProcLine(line)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", ProcMTD, n, err)
		}
		if seen[p.Index] {
			return nil, fmt.Errorf("%s line %d: mtd%d listed twice", ProcMTD, n, p.Index)
		}
		seen[p.Index] = true
		parts = append(parts, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", ProcMTD, err)
	}
	return parts, nil
}

func parseProcLine(line string) (Partition, error) {
	dev, rest, ok := strings.Cut(line, ": ")
	if !ok || !strings.HasPrefix(dev, "mtd") {
		return Partition{}, fmt.Errorf("%q: want mtdN: SIZE ERASESIZE \"NAME\"", line)
	}
	idx, err := strconv.Atoi(dev[3:])
	if err != nil || idx < 0 || dev[3:] != strconv.Itoa(idx) {
		return Partition{}, fmt.Errorf("%q: device %q is not mtdN", line, dev)
	}
	fields := strings.SplitN(rest, " ", 3)
	if len(fields) != 3 {
		return Partition{}, fmt.Errorf("%q: want SIZE ERASESIZE \"NAME\" after %s:", line, dev)
	}
	size, err := strconv.ParseUint(fields[0], 16, 63)
	if err != nil {
		return Partition{}, fmt.Errorf("%q: size %q is not hexadecimal", line, fields[0])
	}
	erase, err := strconv.ParseUint(fields[1], 16, 31)
	if err != nil {
		return Partition{}, fmt.Errorf("%q: erase size %q is not hexadecimal", line, fields[1])
	}
	name := fields[2]
	if len(name) < 2 || name[0] != '"' || name[len(name)-1] != '"' {
		return Partition{}, fmt.Errorf("%q: name %s is not in double quotes", line, name)
	}
	return Partition{Index: idx, Size: int64(size), EraseSize: int64(erase), Name: name[1 : len(name)-1]}, nil
}

// FindPartition returns the partition of parts named name. None is an error
// wrapping ErrNoPartition that lists the names there are; several (the
// kernel allows it) wrap ErrAmbiguousPartition: name the device instead.
func FindPartition(parts []Partition, name string) (Partition, error) {
	var found []Partition
	var names []string
	for _, p := range parts {
		names = append(names, strconv.Quote(p.Name))
		if p.Name == name {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		if len(names) == 0 {
			return Partition{}, fmt.Errorf("%w: %q (%s lists no MTD devices)", ErrNoPartition, name, ProcMTD)
		}
		return Partition{}, fmt.Errorf("%w: %q (%s lists %s)", ErrNoPartition, name, ProcMTD, strings.Join(names, ", "))
	}
	devs := make([]string, len(found))
	for i, p := range found {
		devs[i] = p.Device()
	}
	return Partition{}, fmt.Errorf("%w: %q is %s: name the device (mtd:/dev/mtdN)", ErrAmbiguousPartition, name, strings.Join(devs, " and "))
}

// ResolveName reads the /proc/mtd file at path (ProcMTD on a live system)
// and returns the character device of the partition named name.
func ResolveName(path, name string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("mtd partition %q: %w (this system lists no MTD devices: on a machine without flash chips use sim: specs, e.g. sim:part=mx66l1g45g,file=PATH)", name, err)
	}
	if err != nil {
		return "", fmt.Errorf("mtd partition %q: %w", name, err)
	}
	parts, err := ParseProcMTD(b)
	if err != nil {
		return "", err
	}
	p, err := FindPartition(parts, name)
	if err != nil {
		return "", err
	}
	return p.Device(), nil
}

// NameOf returns the partition name /proc/mtd (the file at path) lists for
// the character device dev ("/dev/mtdN"); "" if it lists none.
func NameOf(path, dev string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	parts, err := ParseProcMTD(b)
	if err != nil {
		return "", err
	}
	for _, p := range parts {
		if p.Device() == dev {
			return p.Name, nil
		}
	}
	return "", nil
}
