package fwimage

import "fmt"

// Short names of the U-Boot legacy header's codes, as mkimage's -O, -A, -T
// and -C options take them (U-Boot include/image.h; the codes are fixed
// once assigned, new ones are appended). Only names are looked up here:
// an unknown code is shown as a number, not rejected.
var (
	osNames = []string{
		"invalid", "openbsd", "netbsd", "freebsd", "4_4bsd", "linux", "svr4", "esix", "solaris", "irix",
		"sco", "dell", "ncr", "lynxos", "vxworks", "psos", "qnx", "u-boot", "rtems", "artos",
		"unity", "integrity", "ose", "plan9", "openrtos", "arm-trusted-firmware", "tee", "opensbi", "efi", "elf",
	}
	archNames = []string{
		"invalid", "alpha", "arm", "x86", "ia64", "mips", "mips64", "powerpc", "s390", "sh",
		"sparc", "sparc64", "m68k", "nios", "microblaze", "nios2", "blackfin", "avr32", "st200", "sandbox",
		"nds32", "or1k", "arm64", "arc", "x86_64", "xtensa", "riscv",
	}
	typeNames = []string{
		"invalid", "standalone", "kernel", "ramdisk", "multi", "firmware", "script", "filesystem", "flat_dt", "kwbimage",
		"imximage", "ublimage", "omapimage", "aisimage", "kernel_noload", "pblimage", "mxsimage", "gpimage", "atmelimage", "socfpgaimage",
		"x86_setup", "lpc32xximage", "loadable", "rkimage", "rksd", "rkspi", "zynqimage", "zynqmpimage", "zynqmpbif", "fpga",
	}
	compNames = []string{"none", "gzip", "bzip2", "lzma", "lzo", "lz4", "zstd"}
)

func codeName(names []string, code byte) string {
	if int(code) < len(names) {
		return names[code]
	}
	return fmt.Sprintf("unknown-%d", code)
}

func osName(c byte) string   { return codeName(osNames, c) }
func archName(c byte) string { return codeName(archNames, c) }
func typeName(c byte) string { return codeName(typeNames, c) }
func compName(c byte) string { return codeName(compNames, c) }
