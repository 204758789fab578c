package mtd

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// fujiProcMTD is /proc/mtd of the QEMU fuji-bmc guest (Debian's armmp
// kernel, two 128 MiB SPI NOR chips), as cmcsync vm boot prints it.
const fujiProcMTD = `dev:    size   erasesize  name
mtd0: 000e0000 00001000 "u-boot"
mtd1: 00020000 00001000 "env"
mtd2: 00400000 00001000 "kernel"
mtd3: 03b60000 00001000 "rootfs"
mtd4: 00060000 00001000 "data0"
mtd5: 08000000 00001000 "flash0"
mtd6: 08000000 00001000 "flash1"
`

func TestParseProcMTD(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		want []Partition
		err  string
	}{
		{name: "fuji", text: fujiProcMTD, want: []Partition{
			{0, 0xe0000, 0x1000, "u-boot"}, {1, 0x20000, 0x1000, "env"}, {2, 0x400000, 0x1000, "kernel"},
			{3, 0x3b60000, 0x1000, "rootfs"}, {4, 0x60000, 0x1000, "data0"},
			{5, 0x8000000, 0x1000, "flash0"}, {6, 0x8000000, 0x1000, "flash1"}}},
		{name: "no devices", text: "dev:    size   erasesize  name\n", want: nil},
		{name: "empty file", text: "", want: nil},
		{name: "name with spaces", text: "dev:    size   erasesize  name\nmtd0: 00010000 00010000 \"cmc info\"\n",
			want: []Partition{{0, 0x10000, 0x10000, "cmc info"}}},
		{name: "unquoted name", text: "dev:    size   erasesize  name\nmtd0: 00010000 00010000 cmc\n", err: "line 2"},
		{name: "bad size", text: "mtd0: 0001000g 00010000 \"x\"\n", err: "not hexadecimal"},
		{name: "bad device", text: "mtdx: 00010000 00010000 \"x\"\n", err: "not mtdN"},
		{name: "duplicate index", text: "mtd0: 00010000 00010000 \"a\"\nmtd0: 00010000 00010000 \"b\"\n", err: "listed twice"},
		{name: "missing fields", text: "mtd0: 00010000\n", err: "want SIZE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseProcMTD([]byte(tc.text))
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestFindPartition(t *testing.T) {
	parts, err := ParseProcMTD([]byte(fujiProcMTD + "mtd7: 00010000 00001000 \"flash0\"\n"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name, want string
		err        error
	}{
		{name: "flash1", want: "/dev/mtd6"},
		{name: "u-boot", want: "/dev/mtd0"},
		{name: "cmc-info", err: ErrNoPartition},
		{name: "flash0", err: ErrAmbiguousPartition},
		{name: "Flash1", err: ErrNoPartition}, // names are case-sensitive
	} {
		p, err := FindPartition(parts, tc.name)
		if tc.err != nil {
			require.ErrorIs(t, err, tc.err, tc.name)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, p.Device(), tc.name)
	}
}

func TestResolveName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mtd")
	require.NoError(t, os.WriteFile(path, []byte(fujiProcMTD), 0o600))
	dev, err := ResolveName(path, "flash0")
	require.NoError(t, err)
	require.Equal(t, "/dev/mtd5", dev)
	_, err = ResolveName(path, "cmc-info")
	require.ErrorIs(t, err, ErrNoPartition)
	require.ErrorContains(t, err, `"u-boot"`) // lists what there is
	_, err = ResolveName(filepath.Join(t.TempDir(), "missing"), "flash0")
	require.ErrorIs(t, err, os.ErrNotExist)
	require.ErrorContains(t, err, "this system lists no MTD devices", "a machine without MTD (a workstation) is told so")
}

func FuzzParseProcMTD(f *testing.F) {
	f.Add([]byte(fujiProcMTD))
	f.Add([]byte("mtd0: 00010000 00010000 \"a b\"\n"))
	f.Add([]byte("dev:\nmtd9999999999999999999: 1 1 \"\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parts, err := ParseProcMTD(b)
		if err != nil {
			return
		}
		seen := map[int]bool{}
		for _, p := range parts {
			if p.Index < 0 || p.Size < 0 || p.EraseSize < 0 || seen[p.Index] {
				t.Fatalf("bad partition %+v in %q", p, b)
			}
			seen[p.Index] = true
			if q, err := FindPartition(parts, p.Name); err == nil && q.Name != p.Name {
				t.Fatalf("FindPartition(%q) = %+v", p.Name, q)
			}
		}
	})
}

func TestNameOf(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mtd")
	require.NoError(t, os.WriteFile(path, []byte(fujiProcMTD), 0o600))
	for dev, want := range map[string]string{"/dev/mtd1": "env", "/dev/mtd6": "flash1", "/dev/mtd9": "", "/dev/mtd": ""} {
		got, err := NameOf(path, dev)
		require.NoError(t, err)
		require.Equal(t, want, got, dev)
	}
}
