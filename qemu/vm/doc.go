// Package vm boots the CMC image in QEMU and talks to it over its serial
// console: Build fetches the assets, cross-compiles cmcsync and writes the
// initramfs; Start boots qemu-system-arm -M fuji-bmc (an ASPEED AST2600 BMC
// whose two SPI NOR chips are backed by image files) or the x86 variant;
// Machine.Run types a command into the guest's shell and returns its output
// and exit status, with timeouts; Machine.Kill is a real power cut (SIGKILL).
//
// TCG is the default accelerator; KVM is used only when asked for.
package vm
