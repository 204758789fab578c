// Package mtdfake is a fake Linux kernel for testing package hal/mtd: it
// implements mtd.Sys with the MTD character-device semantics of
// drivers/mtd/mtdchar.c over in-memory chips.
//
// It decodes the real request numbers (unix.MEMGETINFO, unix.MEMERASE64,
// unix.MEMGETBADBLOCK, unix.MEMSETBADBLOCK, unix.MEMGETREGIONCOUNT) and the
// bytes of the structures they take, checks the argument size encoded in the
// request number, and answers with the kernel's errno values. It serves the
// sysfs attributes under /sys/class/mtd/mtdN/ and fstat's device numbers
// (major 90, minor 2N).
//
// A NOR chip programs by AND (bits only go from 1 to 0) and erases to 0xFF.
// A NAND chip takes whole, page-aligned writes (-EINVAL otherwise), also
// programs by AND, like the real kernel does not refuse a second program of
// a page, fails to erase a bad block with -EIO, and keeps a bad-block table.
// A descriptor opened O_RDONLY refuses pwrite (EBADF) and the requests
// that change the chip (EPERM), as the kernel does.
// Faults are injected one call at a time with [Kernel.FailNext].
//
// The package is Linux-only, as the request numbers are.
package mtdfake
