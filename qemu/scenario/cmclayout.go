package scenario

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/cmcsync/cmcsync/cmcsim"
	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/qemu/vm"
	"github.com/cmcsync/cmcsync/sim"
	"github.com/cmcsync/cmcsync/source/fwimage"
	"github.com/cmcsync/cmcsync/sync/engine"
)

// cmcPart is one partition of the daemon scenario's chips.
type cmcPart struct {
	name      string
	off, size int64
}

// cmcParts lays out each 128 MiB fuji-bmc chip as a dual-flash AST2600
// CMC's (docs/LAYOUT.md): bootloader, its environment, kernel, read-only
// and read-write file systems, then cmcsync's information region and
// store. Both chips carry the same names; a partition spanning the chip
// ("flash0", "flash1") is the device cmcsync opens.
var cmcParts = []cmcPart{
	{"u-boot", 0, 0xf0000},
	{"u-boot-env", 0xf0000, 0x10000},
	{"kernel", 0x100000, 0x900000},
	{"rofs", 0xa00000, 0x5000000},
	{"rwfs", 0x5a00000, 0x1000000},
	{"cmc-info", 0x6a00000, 0x400000},
	{"cmc-store", 0x6e00000, 0x1200000},
}

func cmcPartNamed(name string) cmcPart {
	for _, p := range cmcParts {
		if p.name == name {
			return p
		}
	}
	panic("no partition " + name)
}

// partitionsNode is the device-tree text of a chip's partitions.
func partitionsNode(whole string) string {
	var b strings.Builder
	b.WriteString("partitions {\n\t\t\t\t\tcompatible = \"fixed-partitions\";\n\t\t\t\t\t#address-cells = <0x01>;\n\t\t\t\t\t#size-cells = <0x01>;\n")
	parts := append(append([]cmcPart{}, cmcParts...), cmcPart{whole, 0, vm.FlashImageSize})
	for i, p := range parts {
		fmt.Fprintf(&b, "\n\t\t\t\t\tpartition%d@%x {\n\t\t\t\t\t\treg = <0x%x 0x%x>;\n\t\t\t\t\t\tlabel = \"%s\";\n\t\t\t\t\t};\n", i, p.off, p.off, p.size, p.name)
	}
	b.WriteString("\t\t\t\t};")
	return b.String()
}

// ErrNoDTC is wrapped when the device-tree compiler is missing.
var ErrNoDTC = errors.New("dtc not installed (apt-get install -y device-tree-compiler)")

// cmcDTB writes to dst the fuji-bmc device tree src with the CMC
// partitions on both FMC chips (replacing fuji's own), using dtc. Linux
// reads them with ofpart, as a real BMC's device tree gives them (the
// Debian kernel has no cmdlinepart parser, so mtdparts= is not an option).
func cmcDTB(ctx context.Context, src, dst string) error {
	if _, err := exec.LookPath("dtc"); err != nil {
		return ErrNoDTC
	}
	out, err := exec.CommandContext(ctx, "dtc", "-q", "-I", "dtb", "-O", "dts", src).Output()
	if err != nil {
		return fmt.Errorf("dtc: decompile %s: %w", src, err)
	}
	dts, err := replacePartitions(string(out))
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "dtc", "-q", "-I", "dts", "-O", "dtb", "-o", dst, "-")
	cmd.Stdin = strings.NewReader(dts)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("dtc: compile the CMC device tree: %w: %s", err, b)
	}
	return nil
}

// replacePartitions replaces the partitions node of flash@0 and flash@1
// of the FMC (spi@1e620000) in a decompiled fuji device tree.
func replacePartitions(dts string) (string, error) {
	fmc := strings.Index(dts, "spi@1e620000 {")
	if fmc < 0 {
		return "", errors.New("device tree: no FMC node spi@1e620000")
	}
	for i, flash := range []string{"flash@0 {", "flash@1 {"} {
		at := strings.Index(dts[fmc:], flash)
		if at < 0 {
			return "", fmt.Errorf("device tree: no %s under the FMC", strings.TrimSuffix(flash, " {"))
		}
		start := strings.Index(dts[fmc+at:], "partitions {")
		if start < 0 {
			return "", fmt.Errorf("device tree: %s has no partitions", flash)
		}
		start += fmc + at
		end := strings.Index(dts[start:], "\n\t\t\t\t};")
		if end < 0 {
			return "", errors.New("device tree: unterminated partitions node")
		}
		end += start + len("\n\t\t\t\t};")
		dts = dts[:start] + partitionsNode(fmt.Sprintf("flash%d", i)) + dts[end:]
	}
	return dts, nil
}

// uImage returns a U-Boot legacy image (header and data) named name.
func uImage(name string, typ byte, data []byte, created uint32) []byte {
	h := make([]byte, 64)
	be := binary.BigEndian
	be.PutUint32(h[0:], 0x27051956)
	be.PutUint32(h[8:], created)
	be.PutUint32(h[12:], uint32(len(data)))
	be.PutUint32(h[16:], 0x80008000)
	be.PutUint32(h[20:], 0x80008000)
	be.PutUint32(h[24:], crc32.ChecksumIEEE(data))
	h[28], h[29], h[30], h[31] = 5, 2, typ, 0 // Linux, ARM, type, no compression
	copy(h[32:], name)
	be.PutUint32(h[4:], crc32.ChecksumIEEE(h))
	return append(h, data...)
}

// writeCMCImages writes both chip image files: every partition but the
// information region and the store filled from seed (the u-boot and
// kernel partitions start with U-Boot legacy images), those two erased.
func writeCMCImages(paths []string, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 0xc3c))
	for _, path := range paths {
		img := make([]byte, vm.FlashImageSize)
		for i := range img {
			img[i] = byte(rng.Uint32())
		}
		for _, n := range []string{"cmc-info", "cmc-store"} {
			p := cmcPartNamed(n)
			copy(img[p.off:p.off+p.size], bytes.Repeat([]byte{0xff}, int(p.size)))
		}
		boot := img[0x40 : 0x40+256<<10]
		copy(img, uImage("U-Boot 2019.04 ast2600-cmc", 5, bytes.Clone(boot), 1767225600))
		kern := img[0x100000+0x40 : 0x100000+0x40+2<<20]
		copy(img[0x100000:], uImage("Linux-6.1.0-cmc-1.0", 2, bytes.Clone(kern), 1767225600))
		if err := os.WriteFile(path, img, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// outsideDigests returns the sha256 of each partition of a chip image but
// the information region and the store: what cmcsync must never write.
func outsideDigests(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	for _, p := range cmcParts {
		if p.name == "cmc-info" || p.name == "cmc-store" {
			continue
		}
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(f, p.off, p.size)); err != nil {
			return nil, err
		}
		out[p.name] = hex.EncodeToString(h.Sum(nil))
	}
	return out, nil
}

// cmcLayout is the engine's layout of the CMC partitions on a chip of
// geometry g.
func cmcLayout(g hal.Geometry) (engine.Layout, error) {
	in, st := cmcPartNamed("cmc-info"), cmcPartNamed("cmc-store")
	return engine.NewLayout(g, in.off, in.size, st.off, st.size)
}

// formatCMCImages formats the information region and the store of both
// chip images with the CMC layout (the primary's region filled with the
// simulated CMC's seeded content), the kernel partition's uImage as the
// image identity: what a factory would provision.
func formatCMCImages(ctx context.Context, primary, backup string, seed uint64) error {
	pf, err := openImage(primary, "flash0")
	if err != nil {
		return err
	}
	defer pf.Close()
	bf, err := openImage(backup, "flash1")
	if err != nil {
		return err
	}
	defer bf.Close()
	l, err := cmcLayout(pf.Geometry())
	if err != nil {
		return err
	}
	k := cmcPartNamed("kernel")
	opts := engine.Options{Clock: sim.NewClock(time.Now()), Layout: l, Config: engine.DefaultConfig(),
		Image: fwimage.Source{Off: k.off, Size: k.size, Kind: fwimage.FormatUImage}}
	if _, err := engine.FormatAndFill(pf, bf, opts, cmcsim.New(seed).Populate); err != nil {
		return fmt.Errorf("format the CMC images: %w", err)
	}
	for _, f := range []*sim.Flash{pf, bf} {
		if err := f.Sync(); err != nil {
			return err
		}
	}
	return ctx.Err()
}
