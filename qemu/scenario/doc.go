// Package scenario runs cmcsync inside the QEMU-booted CMC and checks the
// result from the host by decoding the flash image files with cmcsync's own
// code: the HAL conformance suite on the real MTD devices (selftest), an
// engine round from flash0 to flash1 (sync), seeded power cuts by SIGKILL
// with recovery on the next boot (powercut), and the engine on the kernel's
// NAND simulator with bad blocks and bit flips (nand, x86 variant).
//
// The sync and powercut scenarios format a configuration whose
// response-time threshold is GuestThreshold, not the default 2 s: under TCG
// on a loaded host one MTD read can take longer, and those scenarios judge
// committing rounds, not failover.
//
// Every report carries a replay line; a failing run keeps its images and
// console logs.
package scenario
