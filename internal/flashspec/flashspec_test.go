package flashspec_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/internal/flashspec"
	"github.com/cmcsync/cmcsync/sim"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want flashspec.Spec
		back string // String(); "" means in
	}{
		{"sim:part=w25q256jv,size=4M", flashspec.Spec{Backend: "sim", Part: "w25q256jv", Size: 4 << 20}, ""},
		{"sim:part=w25q256jv", flashspec.Spec{Backend: "sim", Part: "w25q256jv"}, ""},
		{"sim:part=mx66l1g45g,size=8M,file=/tmp/a.img", flashspec.Spec{Backend: "sim", Part: "mx66l1g45g", Size: 8 << 20, File: "/tmp/a.img"}, ""},
		{"sim:name=flash1,timing=max,size=64K,part=MT25QL256", flashspec.Spec{Backend: "sim", Part: "mt25ql256", Size: 64 << 10, MaxTiming: true, Name: "flash1"},
			"sim:part=mt25ql256,size=64K,timing=max,name=flash1"},
		{"sim:part=w25q512jv,size=4096,timing=typical", flashspec.Spec{Backend: "sim", Part: "w25q512jv", Size: 4096}, "sim:part=w25q512jv,size=4K"},
		{"sim:part=w25q256jv,size=32M", flashspec.Spec{Backend: "sim", Part: "w25q256jv", Size: 32 << 20}, ""},
		{"sim:part=mx66l1g45g,size=131072KiB", flashspec.Spec{Backend: "sim", Part: "mx66l1g45g", Size: 128 << 20}, "sim:part=mx66l1g45g,size=128M"},
		{"sim:part=w25q256jv,size=12k,file=C:x=y", flashspec.Spec{Backend: "sim", Part: "w25q256jv", Size: 12 << 10, File: "C:x=y"}, "sim:part=w25q256jv,size=12K,file=C:x=y"},
		{"sim:part=mt29f2g01,size=4M", flashspec.Spec{Backend: "sim", Part: "mt29f2g01", Size: 4 << 20}, ""},
		{"mtd:/dev/mtd6", flashspec.Spec{Backend: "mtd", Device: "/dev/mtd6"}, ""},
		{"mtd:name=cmc-info", flashspec.Spec{Backend: "mtd", Partition: "cmc-info"}, ""},
		{"sim:part=mx66l1g45g,size=8M,erase=64k", flashspec.Spec{Backend: "sim", Part: "mx66l1g45g", Size: 8 << 20, EraseModel: sim.Erase64K}, ""},
		{"sim:erase=64K,part=w25q256jv,name=flash1", flashspec.Spec{Backend: "sim", Part: "w25q256jv", Name: "flash1", EraseModel: sim.Erase64K},
			"sim:part=w25q256jv,name=flash1,erase=64k"},
		{"sim:part=w25q256jv,erase=4k", flashspec.Spec{Backend: "sim", Part: "w25q256jv"}, "sim:part=w25q256jv"},
		{"sim:part=mt25ql256,size=1M,timing=spread", flashspec.Spec{Backend: "sim", Part: "mt25ql256", Size: 1 << 20, Spread: true}, ""},
		// A value with a comma is quoted; \" and \\ escape inside quotes.
		{`sim:part=w25q256jv,file="/tmp/run,1/a.img",size=64K`, flashspec.Spec{Backend: "sim", Part: "w25q256jv", Size: 64 << 10, File: "/tmp/run,1/a.img"},
			`sim:part=w25q256jv,size=64K,file="/tmp/run,1/a.img"`},
		{`sim:part=w25q256jv,file="/tmp/x,size=4M/b.img"`, flashspec.Spec{Backend: "sim", Part: "w25q256jv", File: "/tmp/x,size=4M/b.img"}, ""},
		{`sim:part=w25q256jv,file="/tmp/plain.img"`, flashspec.Spec{Backend: "sim", Part: "w25q256jv", File: "/tmp/plain.img"}, "sim:part=w25q256jv,file=/tmp/plain.img"},
		{`sim:part=w25q256jv,name="a,\"b\"\\",file=/tmp/c"d\e.img`, flashspec.Spec{Backend: "sim", Part: "w25q256jv", Name: `a,"b"\`, File: `/tmp/c"d\e.img`},
			`sim:part=w25q256jv,file=/tmp/c"d\e.img,name="a,\"b\"\\"`},
		{`sim:part=w25q256jv,file="\"q.img"`, flashspec.Spec{Backend: "sim", Part: "w25q256jv", File: `"q.img`}, ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := flashspec.Parse(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			back := tc.back
			if back == "" {
				back = tc.in
			}
			require.Equal(t, back, got.String())
			again, err := flashspec.Parse(got.String())
			require.NoError(t, err)
			require.Equal(t, got, again)
		})
	}
}

func TestParseErrors(t *testing.T) {
	known := strings.Join(sim.PartNames(), ", ")
	for _, tc := range []struct {
		in   string
		want []string // substrings of the error
	}{
		{"", []string{"want sim:part=NAME"}},
		{"w25q256jv", []string{"want sim:part=NAME", "mtd:/dev/mtdN"}},
		{"nvme:/dev/nvme0", []string{`unknown backend "nvme"`, "want sim or mtd"}},
		{"sim:", []string{"needs part=NAME", known}},
		{"sim:size=4M", []string{"needs part=NAME", known}},
		{"sim:part=nope", []string{`unknown flash part "nope"`, known}},
		{"sim:part=w25q256jv,colour=blue", []string{`unknown key "colour"`, "allowed: part, size, file, timing, name, erase, profile"}},
		{"sim:part=w25q256jv,erase=32k", []string{`erase=32k: unknown erase model "32k" (want 4k or 64k)`}},
		{"sim:part=w25q256jv,erase=", []string{`key "erase" has an empty value`}},
		{"sim:part=w25q256jv,erase=64k,erase=4k", []string{`key "erase" given twice`}},
		{"sim:part=mt29f2g01,erase=64k", []string{"the 64k erase model is for SPI NOR parts"}},
		{"sim:part=w25q256jv,file=/tmp/run,1/a.img", []string{`"1/a.img" is not key=value`, `if it belongs to the file after file=, quote the value, file="/tmp/run,1/a.img"`}},
		{"sim:part=w25q256jv,file=/tmp/x,size=4M/b.img", []string{`optional K, M or G suffix`, `quote the value, file="/tmp/x,size=4M/b.img"`}},
		{`sim:part=w25q256jv,file="/tmp/x",size=4M/b.img`, []string{`optional K, M or G suffix`}},
		{"sim:part=w25q256jv,size=64K,file=/tmp/x,size=4M/b.img", []string{`key "size" given twice (a comma separates keys: if it belongs to the file after file=, quote the value, file="/tmp/x,size=4M/b.img")`}},
		{"sim:part=w25q256jv,name=a,b=c", []string{`unknown key "b"`, `quote the value, name="a,b=c"`}},
		{`sim:part=w25q256jv,file="/tmp/a,b.img`, []string{`key "file": the quoted value "/tmp/a,b.img has no closing quote`}},
		{`sim:part=w25q256jv,file="/tmp/a,b.img"x`, []string{`key "file": "x" after the closing quote of its value (want a comma or the end)`}},
		{`sim:part=w25q256jv,file="/tmp/a\b.img"`, []string{`key "file": in a quoted value a backslash escapes only \" and \\ (got "\\b")`}},
		{`sim:part=w25q256jv,file=""`, []string{`key "file" has an empty value`}},
		{"sim:part=w25q256jv,colour=blue,x", []string{`unknown key "colour"`}},
		{"sim:part=w25q256jv,size=4K,erase=64k", []string{"size 4K is not a multiple of the w25q256jv erase size 64K (erase=64k)"}},
		{"sim:part=w25q256jv,size=", []string{`key "size" has an empty value`}},
		{"sim:part=", []string{`key "part" has an empty value`}},
		{"sim:part=w25q256jv,file=", []string{`key "file" has an empty value`}},
		{"sim:part=w25q256jv,", []string{`"" is not key=value`}},
		{"sim:part=w25q256jv,size", []string{`"size" is not key=value`}},
		{"sim:part=w25q256jv,part=w25q512jv", []string{`key "part" given twice`}},
		{"sim:part=w25q256jv,size=4097", []string{"size 4097 is not a multiple of the w25q256jv erase size 4K"}},
		{"sim:part=w25q256jv,size=6K", []string{"size 6K is not a multiple of the w25q256jv erase size 4K"}},
		{"sim:part=mt29f2g01,size=64K", []string{"erase size 128K"}},
		{"sim:part=w25q256jv,size=64M", []string{"size 64M is larger than the w25q256jv (32M)"}},
		{"sim:part=w25q256jv,size=0", []string{"want a positive size"}},
		{"sim:part=w25q256jv,size=-4K", []string{"optional K, M or G suffix"}},
		{"sim:part=w25q256jv,size=4X", []string{"optional K, M or G suffix"}},
		{"sim:part=w25q256jv,size=M", []string{"optional K, M or G suffix"}},
		{"sim:part=w25q256jv,size=0x1000", []string{"optional K, M or G suffix"}},
		{"sim:part=w25q256jv,size=99999999999G", []string{"too large"}},
		{"sim:part=w25q256jv,timing=fast", []string{"want timing=typical, timing=max or timing=spread"}},
		{"mtd:", []string{"without a device", "mtd:name=PARTITION"}},
		{"mtd:name=", []string{"without a device"}},
		{"mtd:name=a\"b", []string{"quote"}},
		{"mtd:mtd6", []string{"want an absolute path"}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := flashspec.Parse(tc.in)
			require.Error(t, err)
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}
			require.True(t, strings.HasPrefix(err.Error(), "flash spec "), err.Error())
		})
	}
}

func TestValidateHandMadeSpecs(t *testing.T) {
	for _, tc := range []struct {
		s    flashspec.Spec
		want string
	}{
		{flashspec.Spec{Backend: "sim", Part: "w25q256jv", Size: -4096}, "negative"},
		{flashspec.Spec{Backend: "sim", Part: "W25Q256JV"}, "lower case"},
		{flashspec.Spec{Backend: "sim", Part: "w25q256jv", Device: "/dev/mtd0"}, "no device"},
		{flashspec.Spec{Backend: "mtd", Device: "/dev/mtd0", Size: 4096}, "only the device path"},
		{flashspec.Spec{Backend: "mtd", Device: "/dev/mtd0", EraseModel: sim.Erase64K}, "only the device path"},
		{flashspec.Spec{Backend: "sim", Part: "w25q256jv", EraseModel: 9}, "unknown erase model"},
		{flashspec.Spec{Backend: "sim", Part: "w25q256jv", MaxTiming: true, Spread: true}, "timing=max and timing=spread: choose one"},
		{flashspec.Spec{Backend: "sim", Part: "w25q256jv", Profile: "p.json"}, "part=w25q256jv and profile=p.json: give one"},
		{flashspec.Spec{Backend: "mtd", Device: "/dev/mtd0", Spread: true}, "only the device path"},
		{flashspec.Spec{Backend: "mtd", Device: "/dev/mtd0", Profile: "p.json"}, "only the device path"},
		{flashspec.Spec{}, "unknown backend"},
	} {
		require.ErrorContains(t, tc.s.Validate(), tc.want, "%+v", tc.s)
		_, err := flashspec.Open(tc.s, nil)
		require.ErrorContains(t, err, tc.want)
	}
}

// writeProfile writes part (modified by modify) as a profile file.
func writeProfile(t *testing.T, name string, modify func(p *sim.Profile)) string {
	t.Helper()
	p, err := sim.LookupPart("w25q256jv")
	require.NoError(t, err)
	pr, err := sim.ProfileOf(p, "test")
	require.NoError(t, err)
	pr.Name = name
	if modify != nil {
		modify(&pr)
	}
	path := filepath.Join(t.TempDir(), name+".json")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, pr.Encode(f))
	require.NoError(t, f.Close())
	return path
}

// TestProfileSpec: sim:profile=PATH opens a chip of the profile's part;
// an implausible or malformed profile is refused with the reason.
func TestProfileSpec(t *testing.T) {
	path := writeProfile(t, "my-chip", func(p *sim.Profile) { p.Typical.PageProgramSeconds = 500e-6 })
	s, err := flashspec.Parse("sim:profile=" + path + ",size=1M,timing=spread")
	require.NoError(t, err)
	require.Equal(t, flashspec.Spec{Backend: "sim", Profile: path, Size: 1 << 20, Spread: true}, s)
	require.Equal(t, "sim:profile="+path+",size=1M,timing=spread", s.String())
	f, err := flashspec.Open(s, nil)
	require.NoError(t, err)
	defer hal.Close(f)
	part := f.(*sim.Flash).Part()
	require.Equal(t, "my-chip", part.Name)
	require.Equal(t, 500*time.Microsecond, part.Typical.PageProgram)

	instant := writeProfile(t, "qemu", func(p *sim.Profile) { p.Typical.SectorEraseSeconds, p.Max.SectorEraseSeconds = 30e-6, 60e-6 })
	_, err = flashspec.Parse("sim:profile=" + instant)
	require.ErrorIs(t, err, sim.ErrImplausible)
	require.ErrorContains(t, err, "typical sector erase 30µs is faster than 1ms")
	require.ErrorContains(t, err, "the simulator refuses it")

	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"format":"nope"}`), 0o644))
	_, err = flashspec.Parse("sim:profile=" + bad)
	require.ErrorIs(t, err, sim.ErrBadProfile)

	_, err = flashspec.Parse("sim:profile=" + path + ",size=64M")
	require.ErrorContains(t, err, "size 64M is larger than the my-chip (32M)")
	_, err = flashspec.Parse("sim:profile=/nonexistent/p.json")
	require.ErrorIs(t, err, fs.ErrNotExist)

	// A profile in a folder whose name has a comma: quoted.
	dir := filepath.Join(t.TempDir(), "run,1")
	require.NoError(t, os.Mkdir(dir, 0o755))
	comma := filepath.Join(dir, "p.json")
	require.NoError(t, os.Rename(path, comma))
	s, err = flashspec.Parse(`sim:profile="` + comma + `",size=1M`)
	require.NoError(t, err)
	require.Equal(t, comma, s.Profile)
	require.Equal(t, `sim:profile="`+comma+`",size=1M`, s.String())
}

func TestSizes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		out  string
	}{
		{"1", 1, "1"},
		{"4096", 4096, "4K"},
		{"4K", 4 << 10, "4K"},
		{"4k", 4 << 10, "4K"},
		{"4KiB", 4 << 10, "4K"},
		{"3m", 3 << 20, "3M"},
		{"2MiB", 2 << 20, "2M"},
		{"1G", 1 << 30, "1G"},
		{"1536K", 1536 << 10, "1536K"},
		{"2048M", 2 << 30, "2G"},
	} {
		n, err := hal.ParseSize(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, n, tc.in)
		require.Equal(t, tc.out, flashspec.FormatSize(n))
	}
}

func TestOpenSim(t *testing.T) {
	clock := sim.NewClock(time.Unix(0, 0))
	a, err := flashspec.Parse("sim:part=w25q256jv,size=64K,name=flash0")
	require.NoError(t, err)
	b, err := flashspec.Parse("sim:part=mt25ql256,size=128K,timing=max")
	require.NoError(t, err)
	fa, err := flashspec.Open(a, clock)
	require.NoError(t, err)
	defer hal.Close(fa)
	fb, err := flashspec.Open(b, clock)
	require.NoError(t, err)
	defer hal.Close(fb)

	require.Equal(t, hal.Geometry{Name: "flash0", Kind: hal.NOR, Size: 64 << 10, EraseSize: 4 << 10, WriteSize: 1, PageSize: 256}, fa.Geometry())
	require.Equal(t, "mt25ql256", fb.Geometry().Name)
	require.Equal(t, int64(128<<10), fb.Geometry().Size)
	require.True(t, fb.(*sim.Flash).Part().Name == "mt25ql256")

	// Both chips charge the shared clock.
	before := clock.Now()
	require.NoError(t, fa.Erase(0, 4096))
	mid := clock.Now()
	require.True(t, mid.After(before))
	require.NoError(t, fb.Erase(0, 4096))
	require.True(t, clock.Now().After(mid))

	// erase=64k: the chip reports the 64 KiB erase size /dev/mtd would.
	c, err := flashspec.Parse("sim:part=mx66l1g45g,size=1M,erase=64k")
	require.NoError(t, err)
	fc, err := flashspec.Open(c, clock)
	require.NoError(t, err)
	defer hal.Close(fc)
	require.Equal(t, int64(64<<10), fc.Geometry().EraseSize)
	require.ErrorIs(t, fc.Erase(0, 4096), hal.ErrUnaligned)

	whole, err := flashspec.Open(flashspec.Spec{Backend: "sim", Part: "w25q256jv"}, nil)
	require.NoError(t, err)
	defer hal.Close(whole)
	require.Equal(t, int64(32<<20), whole.Geometry().Size)
}

func TestOpenSimFilePersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flash0.img")
	s, err := flashspec.Parse("sim:part=w25q256jv,size=64K,file=" + path)
	require.NoError(t, err)
	f, err := flashspec.Open(s, nil)
	require.NoError(t, err)
	require.NoError(t, f.Erase(4096, 4096))
	_, err = f.WriteAt([]byte("kept"), 4100)
	require.NoError(t, err)
	require.NoError(t, hal.Close(f))

	f, err = flashspec.Open(s, nil)
	require.NoError(t, err)
	defer hal.Close(f)
	got := make([]byte, 4)
	_, err = f.ReadAt(got, 4100)
	require.NoError(t, err)
	require.Equal(t, "kept", string(got))

	// The same file under a different size is refused.
	other := s
	other.Size = 128 << 10
	_, err = flashspec.Open(other, nil)
	require.Error(t, err)
}

func TestOpenMTD(t *testing.T) {
	_, err := flashspec.Open(flashspec.Spec{Backend: "mtd", Device: "/nonexistent/mtd9"}, nil)
	require.Error(t, err)
	if runtime.GOOS == "linux" {
		require.ErrorIs(t, err, fs.ErrNotExist)
	} else {
		require.ErrorIs(t, err, hal.ErrUnsupported)
	}
	var oe *hal.OpError
	require.ErrorAs(t, err, &oe)
	require.Equal(t, "open", oe.Op)
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"sim:part=w25q256jv,size=4M",
		"sim:part=mx66l1g45g,size=8M,file=/tmp/x.img,timing=max,name=flash1",
		"sim:part=MT29F2G01,size=128K",
		"sim:size=4096,part=w25q512jv,timing=typical",
		"sim:part=w25q256jv,size=128K,erase=64k",
		"sim:part=mt29f2g01,erase=64K",
		"sim:part=w25q256jv,timing=spread",
		"sim:profile=/nonexistent.json",
		"mtd:/dev/mtd6",
		"mtd:name=flash1",
		"sim:part=w25q256jv,size=4K,size=8K",
		"mtd:",
		"sim:",
		"",
		`sim:part=w25q256jv,file="/tmp/run,1/a.img"`,
		`sim:part=w25q256jv,name="a,\"b\"\\",file=/tmp/c"d\e.img`,
		`sim:part=w25q256jv,file="\"q.img",size=64K`,
		"sim:part=w25q256jv,file=/tmp/run,1/a.img",
		`sim:part=w25q256jv,file="/tmp/a,b.img`,
		`sim:part=w25q256jv,file="/tmp/a\b.img"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := flashspec.Parse(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "flash spec ") {
				t.Fatalf("Parse(%q): error %q lacks the spec", s, err)
			}
			return
		}
		if err := sp.Validate(); err != nil {
			t.Fatalf("Parse(%q) = %+v, which does not validate: %v", s, sp, err)
		}
		str := sp.String()
		again, err := flashspec.Parse(str)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", s, str, err)
		}
		if again != sp {
			t.Fatalf("Parse(%q) = %+v; after String %q: %+v", s, sp, str, again)
		}
		if again.String() != str {
			t.Fatalf("String not stable: %q, then %q", str, again.String())
		}
	})
}

func TestResolvePartitionName(t *testing.T) {
	proc := filepath.Join(t.TempDir(), "mtd")
	require.NoError(t, os.WriteFile(proc, []byte("dev:    size   erasesize  name\nmtd0: 000e0000 00001000 \"u-boot\"\nmtd5: 08000000 00001000 \"flash0\"\n"), 0o600))
	for _, tc := range []struct{ in, want, err string }{
		{in: "mtd:name=flash0", want: "mtd:/dev/mtd5"},
		{in: "mtd:/dev/mtd7", want: "mtd:/dev/mtd7"},
		{in: "sim:part=w25q256jv", want: "sim:part=w25q256jv"},
		{in: "mtd:name=flash1", err: `no MTD partition of that name: "flash1"`},
	} {
		sp, err := flashspec.Parse(tc.in)
		require.NoError(t, err)
		got, err := sp.Resolve(proc)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got.String(), tc.in)
	}
}
