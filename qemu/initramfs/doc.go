// Package initramfs builds the CMC's boot image: a cpio "newc" archive
// (written by Writer, in pure Go, byte-for-byte reproducible) holding a static
// busybox with applet links, the kernel modules that drive the flash chips,
// cmcsync cross-compiled for the guest, and an /init script that mounts
// proc/sys/dev, loads the modules in order, prints console markers the host
// waits for and starts a shell on the serial console.
package initramfs
