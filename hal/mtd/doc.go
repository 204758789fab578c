// Package mtd is the Linux MTD backend of package hal: it drives a raw flash
// partition through its character device /dev/mtdN.
//
// [Open] reads the geometry with the MEMGETINFO ioctl and the 64-bit size and
// the name from sysfs (/sys/class/mtd/mtdN/), and refuses devices the HAL
// cannot use (read-only, without erase, several erase regions, an erase size
// that is not a power of two, an MTD type other than NOR, NAND, MLC NAND or
// RAM). The returned [*Device] implements hal.Flash, hal.BadBlocker,
// hal.Stater and io.Closer:
//
//   - ReadAt and WriteAt are pread(2) and pwrite(2) on the character device;
//   - Erase is the MEMERASE64 ioctl;
//   - IsBad is MEMGETBADBLOCK, whose answer is the ioctl's return value
//     (1 bad, 0 good), and MarkBad is MEMSETBADBLOCK.
//
// Alignment and range are checked with hal's Check helpers before any
// system call, so a rejected operation changes nothing. On NAND the device
// also refuses operations on bad blocks (hal.ErrBadBlock) and a program over
// pages that are not erased (hal.ErrNAND): the kernel would accept the latter
// and corrupt the page's ECC. Errors from the kernel map to hal's sentinels
// (EIO and EBADMSG to hal.ErrMedia, for instance) and keep the errno in the
// chain, so both errors.Is(err, hal.ErrMedia) and errors.Is(err, unix.EIO)
// hold.
//
// [OpenReadOnly] opens the device with O_RDONLY for a caller that only
// reads (cmcsync inspect): reads, the geometry and IsBad work as through
// Open; WriteAt, Erase and MarkBad fail with [ErrReadOnly] without a system
// call (the kernel would refuse them on the descriptor too). It also takes
// the read-only node /dev/mtdNro and a partition without MTD_WRITEABLE.
//
// The system calls go through the [Sys] interface; [OpenWith] takes one, so
// tests run the backend against a fake kernel (package hal/mtd/mtdfake) that
// decodes the same request numbers and structures the real kernel does.
//
// On systems other than Linux, the Open functions return an error wrapping
// errors.ErrUnsupported.
package mtd
