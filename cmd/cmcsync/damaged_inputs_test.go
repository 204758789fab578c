package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/stretchr/testify/require"
)

// dmgPair is a pair made and synced by the tool itself (sync --populate,
// info put, sync): each file's bytes by name (a.img, b.img and their wear
// files), and the bytes of a pair formatted apart from it.
type dmgPair struct {
	files map[string][]byte
	other map[string][]byte
}

func makeDamagedPair(t *testing.T) dmgPair {
	t.Helper()
	make1 := func(seed string) map[string][]byte {
		dir := t.TempDir()
		chips := pairArgs(dir)
		_, _, err := runCLI(append([]string{"sync", "--populate", "--seed", seed}, chips...)...)
		require.NoError(t, err)
		_, _, err = runCLI(append([]string{"info", "put", "event-log", selFile(t, dir, 5)}, chips...)...)
		require.NoError(t, err)
		_, _, err = runCLI(append([]string{"sync"}, chips...)...)
		require.NoError(t, err)
		require.NoError(t, os.Remove(filepath.Join(dir, "sel.raw")))
		return loadFiles(t, dir, "a.img", "a.img.wear", "b.img", "b.img.wear")
	}
	return dmgPair{files: make1("1"), other: make1("7")}
}

// snapshotDir maps every entry under dir (files, folders, symlinks) to a
// digest of what it is: a file's SHA-256, a symlink's target.
func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			m[rel] = "symlink " + target
			return err
		case d.IsDir():
			m[rel] = "dir"
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s := sha256.Sum256(b)
			m[rel] = hex.EncodeToString(s[:])
		}
		return nil
	}))
	return m
}

// unexpectedChanges lists the entries created, removed or changed between
// two snapshots that allowed does not name.
func unexpectedChanges(before, after map[string]string, allowed []string) []string {
	var out []string
	for n, h := range after {
		if b, ok := before[n]; (!ok || b != h) && !slices.Contains(allowed, n) {
			out = append(out, n)
		}
	}
	for n := range before {
		if _, ok := after[n]; !ok && !slices.Contains(allowed, n) {
			out = append(out, n+" (removed)")
		}
	}
	slices.Sort(out)
	return out
}

func flipBits(b []byte, offs ...int) []byte {
	c := slices.Clone(b)
	for _, o := range offs {
		c[o] ^= 0x10
	}
	return c
}

// erasedRegionHeader is the chip image b with the first block of its
// information region (its header) erased.
func erasedRegionHeader(b []byte) []byte {
	c := slices.Clone(b)
	for i := 0x80000; i < 0x81000; i++ {
		c[i] = 0xFF
	}
	return c
}

func filled(v byte) []byte {
	b := make([]byte, dmgSize)
	for i := range b {
		b[i] = v
	}
	return b
}

// TestDamagedInputs: an independent tester's damaged images, wrong
// geometry, swapped chips, broken configuration files and malformed specs,
// given to every command that takes them. Each gets its documented exit
// status (docs/CLI.md) and an error naming what and where, and no file
// the command was not asked to write changes (a read-only command writes
// nothing; a refusal or bad input writes nothing; no stray file appears
// beside the images).
func TestDamagedInputs(t *testing.T) {
	good := makeDamagedPair(t)
	a, b := good.files["a.img"], good.files["b.img"]
	garbage := make([]byte, dmgSize)
	for i := range garbage {
		garbage[i] = byte(i*7919>>3) ^ byte(i>>11)
	}
	withSuperOf := func(dst, src []byte) []byte { // src's superblock copies in dst
		c := slices.Clone(dst)
		copy(c[0x280000:0x282000], src[0x280000:0x282000])
		return c
	}
	cfg := func(body string) func(dir string) { // a configuration file c.json
		return func(dir string) {
			body := strings.NewReplacer("{a}", testChipSpec+filepath.Join(dir, "a.img"), "{b}", testChipSpec+filepath.Join(dir, "b.img")).Replace(body)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "c.json"), []byte(body), 0o644))
		}
	}
	const chips = `"chips": {"primary": {"device": "{a}"%s}, "backup": {"device": "{b}"%s}}`
	chipsJSON := func(extra string) string { return strings.ReplaceAll(chips, "%s", extra) }
	pair := []string{"--primary", "{a}", "--backup", "{b}"}
	on := func(args ...string) []string { return append(args, pair...) }

	for _, tc := range []struct {
		name   string
		images map[string][]byte // replaces the good pair's files (nil: removed)
		setup  func(dir string)  // after images
		args   []string          // {a}, {b}: the chips' specs; {dir}: the folder
		code   int               // docs/CLI.md, Exit status
		want   []string          // in the error
		not    []string          // not in the error (a wrong hint)
		writes []string          // files the command may change
		// restores: files that must hold the intact pair's bytes after
		restores []string
	}{
		// Wrong sizes: bad input, exit 2, for every command.
		{name: "truncated backup: sync", images: map[string][]byte{"b.img": b[:dmgSize-4096]}, args: on("sync"), code: 2,
			want: []string{"backup: image", "b.img does not match the chip: it holds 8384512 bytes, but a 8MiB mx66l1g45g chip is 8388608 bytes"}},
		{name: "truncated backup: config set", images: map[string][]byte{"b.img": b[:dmgSize-4096]}, args: on("config", "set", "--interval", "1m"), code: 2, want: []string{"holds 8384512 bytes"}},
		{name: "truncated backup: reseed", images: map[string][]byte{"b.img": b[:dmgSize-4096]}, args: on("reseed"), code: 2, want: []string{"holds 8384512 bytes"}},
		{name: "truncated backup: failback", images: map[string][]byte{"b.img": b[:dmgSize-4096]}, args: on("failback"), code: 2, want: []string{"holds 8384512 bytes"}},
		{name: "truncated backup: serve", images: map[string][]byte{"b.img": b[:dmgSize-4096]},
			args: on("serve", "--listen", "127.0.0.1:0", "--state", "{dir}/st", "--cmc-step", "0"), code: 2, want: []string{"holds 8384512 bytes"},
			// The state folder serve made (and locked before the chips
			// open) is removed again: it failed to start.
		},
		{name: "serve with a file as its state folder", setup: func(dir string) { require.NoError(t, os.WriteFile(filepath.Join(dir, "st"), []byte("x"), 0o644)) },
			args: []string{"serve", "--listen", "127.0.0.1:0", "--state", "{dir}/st"}, code: 2, want: []string{"state folder", "st is a file, not a folder"}},
		{name: "truncated image: selftest", images: map[string][]byte{"b.img": b[:dmgSize-4096]}, args: []string{"selftest", "--flash", "{b}"}, code: 2,
			want: []string{"selftest: image", "holds 8384512 bytes"}},
		{name: "one byte longer primary: info get", images: map[string][]byte{"a.img": append(slices.Clone(a), 0xFF)}, args: on("info", "get", "power"), code: 2,
			want: []string{"primary: image", "holds 8388609 bytes"}},
		{name: "zero-length primary: info put", images: map[string][]byte{"a.img": {}}, args: on("info", "put", "event-log", "{dir}/sel.raw"), code: 2,
			want: []string{"holds 0 bytes"}},
		{name: "twice the size: upgrade keep", images: map[string][]byte{"b.img": append(slices.Clone(b), b...)}, args: on("upgrade", "keep"), code: 2,
			want: []string{"holds 16777216 bytes"}},
		{name: "a part of another size named", args: []string{"sync", "--primary", "{a}", "--backup", "sim:part=w25q256jv,file={dir}/b.img"}, code: 2,
			want: []string{"a 32MiB w25q256jv chip is 33554432 bytes"}},
		{name: "wear file of another erase model", args: []string{"sync", "--primary", "{a}", "--backup", "sim:part=mx66l1g45g,size=8M,erase=64k,file={dir}/b.img"}, code: 2,
			want: []string{"b.img.wear does not match the chip", "not a wear file for 128 erase blocks of 64KiB"}},

		// Contents that are not a store of this pair: exit 1 (or 3 for a
		// refusal), nothing written.
		{name: "all 0x00 backup: sync", images: map[string][]byte{"b.img": filled(0)}, args: on("sync"), code: 1,
			want: []string{"no valid superblock at 0x280000 on backup", "may still hold committed information", "formatting erases all of it"}},
		{name: "all 0x00 backup: reseed", images: map[string][]byte{"b.img": filled(0)}, args: on("reseed"), code: 3,
			want: []string{"neither blank nor a store of this pair", "ERASE", "nothing was written"}},
		{name: "all 0xFF backup: sync", images: map[string][]byte{"b.img": filled(0xFF)}, args: on("sync"), code: 1,
			want: []string{"both copies are erased", "cmcsync reseed"}},
		{name: "all 0xFF backup: config get", images: map[string][]byte{"b.img": filled(0xFF)}, args: on("config", "get"), code: 1,
			want: []string{"config get: the backup's store cannot be read", "nothing was written"}},
		{name: "both chips blank: config get", images: map[string][]byte{"a.img": filled(0xFF), "b.img": filled(0xFF)}, args: on("config", "get"), code: 1,
			want: []string{"no usable store", "sync --populate makes a new pair", "refuses chips that hold data"}},
		{name: "all 0xFF primary: reseed", images: map[string][]byte{"a.img": filled(0xFF)}, args: on("reseed"), code: 3,
			want: []string{"reseed never formats the active chip"}},
		{name: "garbage backup: config set", images: map[string][]byte{"b.img": garbage}, args: on("config", "set", "--interval", "1m"), code: 1,
			want: []string{"no valid superblock at 0x280000 on backup"}},
		{name: "garbage backup: upgrade restore", images: map[string][]byte{"b.img": garbage}, args: on("upgrade", "restore"), code: 1,
			want: []string{"upgrade restore: the backup's store cannot be read"}},
		{name: "both backup superblock copies flipped: config get", images: map[string][]byte{"b.img": flipBits(b, dmgSuper0, dmgSuper1)}, args: on("config", "get"), code: 1,
			want: []string{"the backup's store cannot be read", "copy 0: corrupt store", "copy 1: corrupt store"}},
		{name: "both backup superblock copies flipped: upgrade keep", images: map[string][]byte{"b.img": flipBits(b, dmgSuper0, dmgSuper1)}, args: on("upgrade", "keep"), code: 1,
			want: []string{"the backup's store cannot be read"}},
		// One damaged superblock copy: a writing command's open rewrites it
		// from the intact one (docs/CLI.md, Safety), before the answer,
		// even a refusal; the bytes are the intact store's again
		// (restores). A command that only reads writes nothing.
		{name: "one backup superblock copy flipped: config get reads, writes nothing", images: map[string][]byte{"b.img": flipBits(b, dmgSuper1)}, args: on("config", "get"), code: 0},
		{name: "one backup superblock copy flipped: failback refused, repaired", images: map[string][]byte{"b.img": flipBits(b, dmgSuper0)}, args: on("failback"), code: 3,
			want: []string{"failback: refused: chip A is already the active chip"}, writes: []string{"b.img", "b.img.wear"}, restores: []string{"b.img"}},
		{name: "superblock copies of another pair: sync", images: map[string][]byte{"b.img": withSuperOf(b, good.other["b.img"])}, args: on("sync"), code: 1,
			want: []string{"chips belong to different pairs", "Nothing was written"}},
		{name: "backup of another pair: info put", images: map[string][]byte{"b.img": good.other["b.img"], "b.img.wear": good.other["b.img.wear"]},
			args: on("info", "put", "event-log", "{dir}/sel.raw"), code: 1, want: []string{"chips belong to different pairs"}, not: []string{"--populate"}},
		{name: "backup of another pair: reseed", images: map[string][]byte{"b.img": good.other["b.img"], "b.img.wear": good.other["b.img.wear"]},
			args: on("reseed"), code: 3, want: []string{"which is the standby?", "ERASES"}},

		// The primary's information region header erased (the stores
		// intact): the hint names the commands that format the region.
		{name: "erased region header: info get", images: map[string][]byte{"a.img": erasedRegionHeader(a)}, args: on("info", "get", "power"), code: 1,
			want: []string{"no region header (erased)", "cmcsync sync", "cmcsync failback formats chip A's information region", "cmcsync sync --populate", "ERASES both chips"},
			not:  []string{"format the region first"}},
		{name: "erased region header: info put", images: map[string][]byte{"a.img": erasedRegionHeader(a)}, args: on("info", "put", "event-log", "{dir}/sel.raw"), code: 1,
			want: []string{"no region header (erased)", "cmcsync failback formats chip A's information region"}, not: []string{"format the region first"},
			writes: []string{"a.img.wear", "b.img.wear"}},
		{name: "erased region header: sync fails over", images: map[string][]byte{"a.img": erasedRegionHeader(a)}, args: on("sync"), code: 1,
			want: []string{"round failed over", "no region header (erased)", "cmcsync failback formats chip A's information region"}, not: []string{"format the region first"},
			writes: []string{"a.img", "a.img.wear", "b.img", "b.img.wear"}},

		// A mistyped path: one image file of the pair missing. Created
		// blank, a missing primary read as a failed chip and sync failed
		// over to the backup (exit 0); no command creates it now.
		{name: "mistyped primary path: sync", args: []string{"sync", "--primary", testChipSpec + "{dir}/typo.img", "--backup", "{b}"}, code: 2,
			want: []string{"the primary's image file", "typo.img does not exist (nothing created)", "would fail over"}},
		{name: "mistyped primary path: config set", args: []string{"config", "set", "--interval", "1m", "--primary", testChipSpec + "{dir}/typo.img", "--backup", "{b}"}, code: 2,
			want: []string{"the primary's image file", "does not exist (nothing created)", "cmcsync reseed"}},
		{name: "mistyped primary path: info put", args: []string{"info", "put", "event-log", "{dir}/sel.raw", "--primary", testChipSpec + "{dir}/typo.img", "--backup", "{b}"}, code: 2,
			want: []string{"the primary's image file"}},
		{name: "mistyped backup path: sync", args: []string{"sync", "--primary", "{a}", "--backup", testChipSpec + "{dir}/typo.img"}, code: 2,
			want: []string{"the backup's image file", "typo.img does not exist (nothing created)", "cmcsync reseed", "--populate"}},
		{name: "mistyped backup path: sync --populate", args: []string{"sync", "--populate", "--primary", "{a}", "--backup", testChipSpec + "{dir}/typo.img"}, code: 2,
			want: []string{"--populate formats nothing", "the backup's image file", "typo.img does not exist (nothing created)", "cmcsync reseed"}},
		{name: "mistyped primary path: sync --populate", args: []string{"sync", "--populate", "--primary", testChipSpec + "{dir}/typo.img", "--backup", "{b}"}, code: 2,
			want: []string{"--populate formats nothing", "the primary's image file", "typo.img does not exist (nothing created)", "cmcsync reseed"}},
		{name: "mistyped backup path: serve", args: []string{"serve", "--listen", "127.0.0.1:0", "--state", "{dir}/st", "--cmc-step", "0", "--primary", "{a}", "--backup", testChipSpec + "{dir}/typo.img"}, code: 2,
			want: []string{"serve: the backup's image file", "typo.img does not exist (nothing created)", "cmcsync reseed"}},
		{name: "mistyped primary path: serve", args: []string{"serve", "--listen", "127.0.0.1:0", "--state", "{dir}/st", "--cmc-step", "0", "--primary", testChipSpec + "{dir}/typo.img", "--backup", "{b}"}, code: 2,
			want: []string{"serve: the primary's image file", "typo.img does not exist (nothing created)", "cmcsync reseed"}},
		{name: "mistyped backup path: info get", args: []string{"info", "get", "power", "--primary", "{a}", "--backup", testChipSpec + "{dir}/typo.img"}, code: 2,
			want: []string{"the backup's image file", "typo.img does not exist (nothing created)"}},
		{name: "mistyped backup path: failback", args: []string{"failback", "--primary", "{a}", "--backup", testChipSpec + "{dir}/typo.img"}, code: 2,
			want: []string{"the backup's image file"}},
		// An image without its wear file: a read-only command leaves none.
		{name: "info get of images without wear files", images: map[string][]byte{"a.img.wear": nil, "b.img.wear": nil}, args: on("info", "get", "power", "--out", "{dir}/x.bin"), code: 0,
			writes: []string{"x.bin"}},
		{name: "config get of images without wear files", images: map[string][]byte{"a.img.wear": nil, "b.img.wear": nil}, args: on("config", "get"), code: 0},

		// A command that creates files and then fails removes them again,
		// and never removes or changes a file that was there.
		{name: "new pair whose round fails: sync --populate removes it", args: []string{"sync", "--populate", "--primary", testChipSpec + "{dir}/n1.img", "--backup", testChipSpec + "{dir}/n2.img", "--image-id", "sha256:0x0+64M"}, code: 1,
			want: []string{"round error", "image identity unreadable", "sync removed the image files it created", "n1.img", "n2.img"}},
		{name: "new primary beside a truncated backup: sync --populate", images: map[string][]byte{"b.img": b[:dmgSize-4096]},
			args: []string{"sync", "--populate", "--primary", testChipSpec + "{dir}/n.img", "--backup", "{b}"}, code: 2, want: []string{"holds 8384512 bytes"}},
		{name: "images without wear files and a round that fails: sync", images: map[string][]byte{"a.img.wear": nil, "b.img.wear": nil}, args: on("sync", "--image-id", "sha256:0x0+64M"), code: 1,
			want: []string{"image identity unreadable"}, not: []string{"removed the image files"}},
		{name: "serve that fails to start in a state folder that was there", images: map[string][]byte{"b.img": b[:dmgSize-4096]}, setup: func(dir string) {
			require.NoError(t, os.Mkdir(filepath.Join(dir, "st"), 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "st", "keep"), []byte("x"), 0o644))
		}, args: on("serve", "--listen", "127.0.0.1:0", "--state", "{dir}/st", "--cmc-step", "0"), code: 2, want: []string{"holds 8384512 bytes"},
			writes: []string{"st/history.log", "st/serve.lock"}}, // the daemon's log and lock, in its own folder
		{name: "new primary beside a busy backup: sync --populate", setup: func(dir string) {
			s, err := flashspec.Parse(testChipSpec + filepath.Join(dir, "b.img"))
			require.NoError(t, err)
			f, err := flashspec.Open(s, nil) // locks the image, as a running serve does
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, hal.Close(f)) })
		}, args: []string{"sync", "--populate", "--primary", testChipSpec + "{dir}/n.img", "--backup", "{b}"}, code: 3, want: []string{"device busy"}},
		// reseed keeps the standby it formatted before its round failed:
		// its error says sync brings that store into service.
		{name: "new backup whose round fails: reseed keeps its formatted store", images: map[string][]byte{"b.img": nil, "b.img.wear": nil},
			args: on("reseed", "--image-id", "sha256:0x0+64M"), code: 1, want: []string{"the standby's store is formatted", "cmcsync sync"},
			writes: []string{"b.img", "b.img.wear", "a.img.wear"}},
		{name: "calibrate of a new image file with the scratch range past its end", args: []string{"calibrate", "--flash", testChipSpec + "{dir}/n.img", "--scratch", "0x7f0000+1M", "--out", "{dir}/p.json"}, code: 2,
			want: []string{"scratch range is outside the device"}},
		{name: "calibrate of a new image file with --out in a missing folder", args: []string{"calibrate", "--flash", testChipSpec + "{dir}/n.img", "--scratch", "0x7f0000+64K", "--out", "{dir}/no/p.json"}, code: 2,
			want: []string{"calibrate: --out"}},
		{name: "calibrate of an image without a wear file with the scratch range past its end", images: map[string][]byte{"b.img.wear": nil},
			args: []string{"calibrate", "--flash", "{b}", "--scratch", "0x7f0000+1M", "--out", "{dir}/p.json"}, code: 2, want: []string{"scratch range is outside the device"}},
		{name: "selftest of a new image file too small to test", args: []string{"selftest", "--flash", "sim:part=mx66l1g45g,size=8K,file={dir}/n.img"}, code: 1,
			want: []string{"the conformance checks need at least 4"}},
		{name: "campaign that fails keeps the --cpuprofile file that was there", setup: func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "cpu.prof"), []byte("an older profile"), 0o644))
		}, args: []string{"campaign", "--mode", "random", "--scenario", "lifecycle", "--count", "1", "--cpuprofile", "{dir}/cpu.prof"}, code: 2,
			want: []string{"runs in exhaustive mode only"}},
		{name: "campaign that fails writes no --cpuprofile file", args: []string{"campaign", "--mode", "random", "--scenario", "lifecycle", "--count", "1", "--cpuprofile", "{dir}/cpu.prof"}, code: 2,
			want: []string{"runs in exhaustive mode only"}},
		{name: "bench --out that fails changes nothing there", setup: func(dir string) {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "out", "w25q256jv-typical-4k-1mib.svg"), 0o755)) // a plot's name taken by a folder
			require.NoError(t, os.WriteFile(filepath.Join(dir, "out", "report.json"), []byte("an older report"), 0o644))
		}, args: append(append([]string{"bench"}, small...), "--erase-models", "4k", "--out", "{dir}/out"), code: 1, want: []string{"w25q256jv-typical-4k-1mib.svg"}},

		// Swapped and duplicated chips.
		{name: "swapped: sync", images: map[string][]byte{"a.img": b, "b.img": a}, args: on("sync"), code: 1, want: []string{"the chips are given the wrong way round"}},
		{name: "swapped: config set", images: map[string][]byte{"a.img": b, "b.img": a}, args: on("config", "set", "--interval", "1m"), code: 1,
			want: []string{"wrong way round"}, not: []string{"--populate"}},
		{name: "swapped: reseed", images: map[string][]byte{"a.img": b, "b.img": a}, args: on("reseed"), code: 3, want: []string{"neither chip holds a valid store of its position"}},
		{name: "swapped: failback", images: map[string][]byte{"a.img": b, "b.img": a}, args: on("failback"), code: 1, want: []string{"wrong way round"}},
		{name: "primary copied onto backup: sync", images: map[string][]byte{"b.img": a}, args: on("sync"), code: 1, want: []string{"a copy of the primary's store"}},
		{name: "backup copied onto primary: upgrade keep", images: map[string][]byte{"a.img": b}, args: on("upgrade", "keep"), code: 1, want: []string{"a copy of the backup's store"}},
		{name: "a symlink to the primary as the backup", setup: func(dir string) { require.NoError(t, os.Symlink("a.img", filepath.Join(dir, "l.img"))) },
			args: []string{"sync", "--primary", "{a}", "--backup", testChipSpec + "{dir}/l.img"}, code: 2, want: []string{"name the same chip"}},
		{name: "a folder as the backup", setup: func(dir string) { require.NoError(t, os.Mkdir(filepath.Join(dir, "d.img"), 0o755)) },
			args: []string{"sync", "--primary", "{a}", "--backup", testChipSpec + "{dir}/d.img"}, code: 2, want: []string{"d.img does not match the chip: not a regular file"}},
		{name: "a folder: inspect", setup: func(dir string) { require.NoError(t, os.Mkdir(filepath.Join(dir, "d.img"), 0o755)) },
			args: []string{"inspect", "--flash", testChipSpec + "{dir}/d.img"}, code: 2, want: []string{"not a regular file"}},

		// inspect only reads: no wear file beside an image that has none,
		// through a symlink neither.
		{name: "inspect of an image without a wear file", images: map[string][]byte{"b.img.wear": nil}, args: []string{"inspect", "--flash", "{b}"}, code: 0},
		{name: "inspect through a symlink", setup: func(dir string) { require.NoError(t, os.Symlink("b.img", filepath.Join(dir, "l.img"))) },
			args: []string{"inspect", "--flash", testChipSpec + "{dir}/l.img"}, code: 0},
		{name: "inspect of an image another process holds", setup: func(dir string) {
			s, err := flashspec.Parse(testChipSpec + filepath.Join(dir, "b.img"))
			require.NoError(t, err)
			f, err := flashspec.Open(s, nil) // locks the image, as a running serve does
			require.NoError(t, err)
			t.Cleanup(func() { require.NoError(t, hal.Close(f)) })
		}, args: []string{"inspect", "--flash", "{b}"}, code: 0},
		{name: "inspect of a damaged superblock copy writes no repair", images: map[string][]byte{"b.img": flipBits(b, dmgSuper0)},
			args: []string{"inspect", "--flash", "{b}"}, code: 1, want: []string{"damage found"}},

		// info get --out naming a chip: the chip is not overwritten.
		{name: "info get --out the primary's image", args: on("info", "get", "power", "--out", "{dir}/a.img"), code: 2,
			want: []string{"--out", "is the primary's file", "would destroy the chip"}},
		{name: "info get --out the backup's wear file", args: on("info", "get", "power", "--out", "{dir}/b.img.wear"), code: 2,
			want: []string{"is the backup's file"}},
		{name: "info get --out a symlink to the backup's image", setup: func(dir string) { require.NoError(t, os.Symlink("b.img", filepath.Join(dir, "l.img"))) },
			args: on("info", "get", "power", "--out", "{dir}/l.img"), code: 2, want: []string{"is the backup's file"}},
		{name: "info get --out and --json", args: on("info", "get", "power", "--out", "{dir}/x.bin", "--json"), code: 2, want: []string{"not both"}},
		{name: "info get --out into a missing folder", args: on("info", "get", "power", "--out", "{dir}/no/x.bin"), code: 2, want: []string{"info get: --out", "no/x.bin", "does not exist"}},
		{name: "info get --out writes only the file named", args: on("info", "get", "power", "--out", "{dir}/x.bin"), code: 0, writes: []string{"x.bin"}},
		{name: "info get --out replaces a file that was there", setup: func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "x.bin"), []byte("an older payload"), 0o600))
		}, args: on("info", "get", "power", "--out", "{dir}/x.bin"), code: 0, writes: []string{"x.bin"}},
		{name: "info get --out a folder", setup: func(dir string) { require.NoError(t, os.Mkdir(filepath.Join(dir, "x"), 0o755)) },
			args: on("info", "get", "power", "--out", "{dir}/x"), code: 2, want: []string{"info get: --out", "/x is a folder"}},
		{name: "info get --out a device", args: on("info", "get", "power", "--out", "/dev/null"), code: 2, want: []string{"/dev/null is there and not a regular file"}},
		// A failing command leaves the file that was at --out as it was,
		// and no temporary file beside it.
		{name: "info get --out that fails keeps the file that was there", images: map[string][]byte{"a.img": b, "b.img": a},
			setup: func(dir string) {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "x.bin"), []byte("an older payload"), 0o644))
			},
			args: on("info", "get", "power", "--out", "{dir}/x.bin"), code: 1, want: []string{"wrong way round"}},
		{name: "calibrate --out a folder", setup: func(dir string) { require.NoError(t, os.Mkdir(filepath.Join(dir, "p"), 0o755)) },
			args: []string{"calibrate", "--flash", "{b}", "--scratch", "0x7f0000+64K", "--out", "{dir}/p"}, code: 2, want: []string{"calibrate: --out", "/p is a folder"}},
		{name: "campaign --cpuprofile a folder", setup: func(dir string) { require.NoError(t, os.Mkdir(filepath.Join(dir, "cpu"), 0o755)) },
			args: []string{"campaign", "--mode", "random", "--count", "1", "--cpuprofile", "{dir}/cpu"}, code: 2, want: []string{"campaign: --cpuprofile", "/cpu is a folder"}},
		{name: "bench --out a file", setup: func(dir string) { require.NoError(t, os.WriteFile(filepath.Join(dir, "out"), []byte("a file"), 0o644)) },
			args: append(append([]string{"bench"}, small...), "--out", "{dir}/out"), code: 2, want: []string{"bench: --out", "/out is there and not a folder"}},

		{name: "calibrate --out the chip's image", args: []string{"calibrate", "--flash", "{b}", "--scratch", "0x7f0000+64K", "--out", "{dir}/b.img"}, code: 2,
			want: []string{"calibrate: --out", "is the flash's file", "would destroy the chip"}},
		{name: "truncated image: calibrate", images: map[string][]byte{"b.img": b[:dmgSize-4096]}, args: []string{"calibrate", "--flash", "{b}", "--scratch", "0x7f0000+64K", "--out", "{dir}/p.json"}, code: 2,
			want: []string{"calibrate: image", "holds 8384512 bytes"}},

		// info collect: an input it cannot read is bad input, nothing written.
		{name: "info collect with a dangling symlink", setup: func(dir string) {
			require.NoError(t, os.Mkdir(filepath.Join(dir, "in"), 0o755))
			require.NoError(t, os.Symlink("/nonexistent", filepath.Join(dir, "in", "fan.bin")))
		}, args: on("info", "collect", "--dir", "{dir}/in"), code: 2, want: []string{"info collect: bad input", "in/fan.bin: no such file"}},

		// Configuration files.
		{name: "configuration file is a folder", setup: func(dir string) { require.NoError(t, os.Mkdir(filepath.Join(dir, "c.json"), 0o755)) },
			args: []string{"config", "get", "--config", "{dir}/c.json"}, code: 2, want: []string{"bad configuration file", "c.json: is a directory"}},
		{name: "configuration file empty", setup: cfg(""), args: []string{"sync", "--config", "{dir}/c.json"}, code: 2, want: []string{"c.json:1: the file is empty"}},
		{name: "configuration file binary", setup: cfg("\xff\xfe{"), args: []string{"info", "get", "power", "--config", "{dir}/c.json"}, code: 2, want: []string{"c.json:1: JSON syntax"}},
		{name: "configuration file cut short", setup: cfg("{" + chipsJSON("")), args: []string{"reseed", "--config", "{dir}/c.json"}, code: 2,
			want: []string{"the file ends inside the configuration object"}},
		{name: "configuration file with a value of the wrong type", setup: cfg("{" + chipsJSON("") + `, "scrub_every": 5}`), args: []string{"serve", "--config", "{dir}/c.json"}, code: 2,
			want: []string{"c.json:1: scrub_every: want a string, not a number"}},
		{name: "configuration file with a fault schedule that does not parse", setup: cfg("{\n" + `"faults": "(on primary (cut)"}`),
			args: []string{"serve", "--listen", "127.0.0.1:0", "--state", "{dir}/st", "--config", "{dir}/c.json"}, code: 2,
			want: []string{"c.json:2: faults: "}, not: []string{"--faults"}},
		{name: "configuration file names the chips swapped", setup: cfg(`{"chips": {"primary": {"device": "{b}"}, "backup": {"device": "{a}"}}}`),
			args: []string{"config", "set", "--interval", "1m", "--config", "{dir}/c.json"}, code: 1, want: []string{"wrong way round"}},
		{name: "configuration file with another region size", setup: cfg("{" + chipsJSON(`, "info": {"size": "3M"}`) + "}"),
			args: []string{"upgrade", "keep", "--config", "{dir}/c.json"}, code: 2, want: []string{"records 2MiB, the size given is 3MiB"}},
		{name: "configuration file with an unaligned offset", setup: cfg("{" + chipsJSON(`, "info": {"offset": "0x1234"}`) + "}"),
			args: []string{"failback", "--config", "{dir}/c.json"}, code: 2, want: []string{"offset and size must be non-negative multiples of the erase size"}},

		// Another image identity setting than the pair was synced with
		// reads as an upgrade: the hint says what each choice does, and
		// that neither is needed if nothing was upgraded.
		{name: "another --image-id: sync", args: on("sync", "--image-id", "sha256:0x0+64K"), code: 3,
			want: []string{"sync: image upgrade pending: choose keep-upgraded or restore-defaults (", `the committed one "1.0.0"`, "upgrade restore REPLACES the primary's information", "choose neither"}},

		{name: "--image-id of an unknown kind", args: on("config", "get", "--image-id", "bogus:kernel"), code: 2, want: []string{`image identity kind "bogus"`}},

		// Malformed specs: exit 2 before a file is opened or created.
		{name: "spec with a key twice", args: []string{"sync", "--primary", "{a},file={dir}/b.img", "--backup", "{b}"}, code: 2, want: []string{`key "file" given twice`}},
		{name: "spec with an unknown part", args: []string{"config", "get", "--primary", "sim:part=nope,file={dir}/n.img", "--backup", "{b}"}, code: 2,
			want: []string{`unknown flash part "nope"`}},
		{name: "spec with a negative size", args: []string{"inspect", "--flash", "sim:part=mx66l1g45g,size=-8M,file={dir}/a.img"}, code: 2, want: []string{`size "-8M"`}},
		{name: "spec of an unknown backend", args: []string{"reseed", "--primary", "file:{dir}/a.img", "--backup", "{b}"}, code: 2, want: []string{`unknown backend "file"`}},
		{name: "mtd spec of a regular file", args: []string{"info", "get", "power", "--primary", "mtd:{dir}/a.img", "--backup", "{b}"}, code: 1,
			want: []string{"not an MTD character device"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, good.files)
			for n, c := range tc.images {
				p := filepath.Join(dir, n)
				if c == nil {
					require.NoError(t, os.Remove(p))
					continue
				}
				require.NoError(t, os.WriteFile(p, c, 0o644))
			}
			selFile(t, dir, 3) // sel.raw, for info put
			if tc.setup != nil {
				tc.setup(dir)
			}
			r := strings.NewReplacer("{a}", testChipSpec+filepath.Join(dir, "a.img"), "{b}", testChipSpec+filepath.Join(dir, "b.img"), "{dir}", dir)
			args := make([]string, len(tc.args))
			for i, s := range tc.args {
				args[i] = r.Replace(s)
			}
			before := snapshotDir(t, dir)
			_, _, err := runCLI(args...)
			require.Equal(t, tc.code, statusOf(err), "%v", err)
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}
			for _, w := range tc.not {
				require.NotContains(t, err.Error(), w)
			}
			if err != nil {
				msg := err.Error()
				require.Equal(t, strings.ToLower(msg[:1]), msg[:1], "an error starts in lower case: %s", msg)
			}
			require.Empty(t, unexpectedChanges(before, snapshotDir(t, dir), tc.writes), "files changed or created")
			for _, n := range tc.restores {
				got, err := os.ReadFile(filepath.Join(dir, n))
				require.NoError(t, err)
				require.True(t, slices.Equal(good.files[n], got), "%s does not hold the intact bytes", n)
			}
		})
	}
}

// TestDamagedInputsCheckSeesWrites: the unchanged-files check of
// TestDamagedInputs fails where a command writes: a round on the intact
// pair writes the backup, and a check that allows no write names it.
func TestDamagedInputsCheckSeesWrites(t *testing.T) {
	good := makeDamagedPair(t)
	dir := t.TempDir()
	writeFiles(t, dir, good.files)
	before := snapshotDir(t, dir)
	_, _, err := runCLI("sync", "--primary", testChipSpec+filepath.Join(dir, "a.img"), "--backup", testChipSpec+filepath.Join(dir, "b.img"))
	require.NoError(t, err)
	after := snapshotDir(t, dir)
	require.Contains(t, unexpectedChanges(before, after, nil), "b.img")
	require.Empty(t, unexpectedChanges(before, after, []string{"a.img.wear", "b.img", "b.img.wear"}))
	// A new file and a removed one are seen too.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stray"), nil, 0o644))
	require.NoError(t, os.Remove(filepath.Join(dir, "a.img.wear")))
	require.Equal(t, []string{"a.img.wear (removed)", "b.img", "b.img.wear", "stray"}, unexpectedChanges(before, snapshotDir(t, dir), nil))
}

// TestPopulatedPairsAreDistinct: pairs made one after the other (within
// one second, as a script or a tester makes them) get distinct pair ids,
// so that a backup of one pair given with the primary of another is
// refused ("chips belong to different pairs") rather than synced over.
func TestPopulatedPairsAreDistinct(t *testing.T) {
	dir := t.TempDir()
	spec := func(n string) string { return "sim:part=mx66l1g45g,size=4M,file=" + filepath.Join(dir, n) }
	ids := map[string]int{}
	for i := range 4 {
		a, b := spec(fmt.Sprintf("a%d.img", i)), spec(fmt.Sprintf("b%d.img", i))
		_, _, err := runCLI("sync", "--populate", "--primary", a, "--backup", b)
		require.NoError(t, err)
		in, err := inspectJSON(t, b)
		require.NoError(t, err)
		require.NotNil(t, in.Store)
		id := in.Store.Superblock.PairID
		prev, seen := ids[id]
		require.False(t, seen, "pairs %d and %d share pair id %s", prev, i, id)
		ids[id] = i
	}
	// The primary of pair 0 with the backup of pair 1: refused, unchanged.
	before := snapshotDir(t, dir)
	_, _, err := runCLI("sync", "--primary", spec("a0.img"), "--backup", spec("b1.img"))
	require.Equal(t, 1, statusOf(err), "%v", err)
	require.ErrorContains(t, err, "chips belong to different pairs")
	require.Empty(t, unexpectedChanges(before, snapshotDir(t, dir), nil))
}
