package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestInspectFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"inspect"}, 2},
		{[]string{"inspect", "--flash", "nope"}, 2},
		{[]string{"inspect", "--flash", "sim:part=mx66l1g45g,size=8M", "x"}, 2},
		{[]string{"inspect", "--flash", "sim:part=mx66l1g45g,size=8M", "--info-size", "zz"}, 2},
		// A blank chip: nothing decodes.
		{[]string{"inspect", "--flash", "sim:part=mx66l1g45g,size=8M"}, 1},
	} {
		_, _, err := runCLI(tc.args...)
		require.Equal(t, tc.code, statusOf(err), "%v: %v", tc.args, err)
	}
	out, _, _ := runCLI("inspect", "--flash", "sim:part=mx66l1g45g,size=8M")
	require.Contains(t, out, "image: DAMAGED")
	require.Contains(t, out, "store: UNREADABLE")
}

// TestInspectBadImages: inspect only reads. A damaged image is reported
// (exit 1); an image file that does not fit the spec, a spec whose chip
// the layout does not fit, and an image file that does not exist are bad
// input (exit 2) with a hint; no case creates or changes a file.
func TestInspectBadImages(t *testing.T) {
	dir := t.TempDir()
	p, b := filepath.Join(dir, "p.img"), filepath.Join(dir, "b.img")
	_, _, err := runCmd("sync", "--primary", testChipSpec+p, "--backup", testChipSpec+b, "--populate")
	require.NoError(t, err)
	good, err := os.ReadFile(b)
	require.NoError(t, err)
	// The layout of an 8 MiB chip: image 0+512K, info 0x80000+2M, store
	// 0x280000 to the end (inspect prints it), the store's two superblock
	// copies in its first two 4 KiB blocks; flip a bit in the superblocks
	// and in the information region's header.
	flip := func(offs ...int) []byte {
		c := bytes.Clone(good)
		for _, off := range offs {
			c[off] ^= 0x10
		}
		return c
	}
	for _, tc := range []struct {
		name     string
		contents []byte // nil: no file
		spec     string // after file=
		code     int
		want     string // in standard error or output
	}{
		{name: "intact", contents: good, spec: ",size=8M", code: 0, want: "verified: every committed chunk matches its digest"},
		// The primary's own store never commits: no 0001-01-01 dates.
		{name: "store before its first commit", contents: readFile(t, p), spec: ",size=8M", code: 0, want: "generation: 0, synced never, next never,"},
		{name: "bit flip in one superblock copy", contents: flip(0x280008), spec: ",size=8M", code: 1, want: "superblock copy 0 is damaged"},
		{name: "bit flips in both superblock copies", contents: flip(0x280008, 0x281008), spec: ",size=8M", code: 1, want: "store: UNREADABLE"},
		{name: "bit flip in the region header", contents: flip(0x80008), spec: ",size=8M", code: 1, want: "info: DAMAGED"},
		{name: "truncated", contents: good[:5<<20], spec: ",size=8M", code: 2, want: "holds 5242880 bytes, but a 8MiB mx66l1g45g chip is 8388608 bytes"},
		{name: "size left out", contents: good, spec: "", code: 2, want: "a 128MiB mx66l1g45g chip"},
		{name: "missing file", spec: ",size=8M", code: 2, want: "does not exist: inspect only reads"},
		// (A 3 MiB chip now holds a default layout with a smaller region;
		// 64 KiB holds none.)
		{name: "chip too small for the layout", contents: good[:64<<10], spec: ",size=64K", code: 2, want: "bad layout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := filepath.Join(t.TempDir(), "x.img")
			if tc.contents != nil {
				require.NoError(t, os.WriteFile(img, tc.contents, 0o644))
			}
			out, _, err := runCmd("inspect", "--flash", "sim:part=mx66l1g45g,file="+img+tc.spec)
			require.Equal(t, tc.code, statusOf(err), "%v", err)
			require.Contains(t, out+fmt.Sprint(err), tc.want)
			got, rerr := os.ReadFile(img)
			if tc.contents == nil {
				require.ErrorIs(t, rerr, os.ErrNotExist, "inspect created the image")
				return
			}
			require.NoError(t, rerr)
			require.True(t, bytes.Equal(tc.contents, got), "inspect changed the image")
		})
	}
}

// TestInspectConfigWithoutFlash: --config gives inspect the layout, not
// the chip; without --flash the error (exit 2) says so and names the
// file's chips as --flash values.
func TestInspectConfigWithoutFlash(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, file string
		want       []string
	}{
		{"two chips", `{"chips": {"primary": {"device": "mtd:name=cmcsync0"}, "backup": {"device": "mtd:name=cmcsync1"}}}`,
			[]string{"--config gives the layout, not the chip to decode", "(its chips: --flash mtd:name=cmcsync0 or --flash mtd:name=cmcsync1)"}},
		{"no chips", `{"listen": "127.0.0.1:8080"}`, []string{"--config gives the layout, not the chip to decode"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".json")
			require.NoError(t, os.WriteFile(p, []byte(tc.file), 0o600))
			_, _, err := runCLI("inspect", "--config", p)
			code, msg := exitOf(t, err)
			require.Equal(t, 2, code, msg)
			for _, w := range tc.want {
				require.Contains(t, msg, w)
			}
		})
	}
}

// TestInspectLayoutWithoutImageArea: with places given the layout has no
// cmcsync image area; inspect says so instead of "image: DAMAGED: " with
// no reason, and still decodes the region and the store.
func TestInspectLayoutWithoutImageArea(t *testing.T) {
	_, chips := pairFiles(t)
	b := chips[3]
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"places", []string{"--info-offset", "0x80000", "--info-size", "2M", "--store-offset", "0x280000"}, "image: none in this layout"},
		{"default layout", nil, "image: version 1.0.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runCLI(append([]string{"inspect", "--flash", b}, tc.args...)...)
			require.NoError(t, err, out)
			require.Contains(t, out, tc.want)
			require.NotContains(t, out, "DAMAGED")
			require.Contains(t, out, "verified: every committed chunk matches its digest")
		})
	}
}

// TestBadPlacesAreBadInput: a place or image identity that does not parse,
// or names a partition the chip does not have, is bad input (exit 2), on
// inspect and on the commands that open a pair (it was exit 1).
func TestBadPlacesAreBadInput(t *testing.T) {
	_, chips := pairFiles(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"inspect", "--flash", chips[3], "--image-id", "bogus"}, `image identity "bogus": want header`},
		{[]string{"inspect", "--flash", chips[3], "--image-id", "uimage:kernel"}, `no partition "kernel": this chip has no partitions`},
		{[]string{"inspect", "--flash", chips[3], "--info", "cmc-info", "--store", "cmc-store"}, `no partition "cmc-info"`},
		{append([]string{"config", "get", "--image-id", "fit:zz+1M"}, chips...), `"zz+1M": want NAME or OFF+SIZE`},
		{append([]string{"sync", "--image-id", "bogus"}, chips...), `image identity "bogus"`},
	} {
		t.Run(strings.Join(tc.args[:2], " ")+" "+tc.want, func(t *testing.T) {
			_, _, err := runCLI(tc.args...)
			require.Equal(t, 2, statusOf(err), "%v", err)
			require.ErrorContains(t, err, tc.want)
		})
	}
}
