// Package haltest is the conformance suite of package hal: the HAL contract
// stated as checks that every flash backend must pass, in the style of
// testing/fstest.
//
// In tests, [Run] runs each check as a subtest on a fresh device:
//
//	func TestConformance(t *testing.T) {
//		haltest.Run(t, func(t *testing.T) hal.Flash { return newDevice(t) })
//	}
//
// On a real device, [Check] runs the same checks on one device and returns a
// [Report] of what ran, passed, failed and did not apply; `cmcsync selftest`
// prints it. Check destroys the contents of the blocks it touches (a few
// erase blocks at the start, middle and end of the device, so that it stays
// quick on a 128 MiB chip) and never makes permanent changes: the checks that
// would (marking a block bad, closing the device) run only under Run.
//
// The checks are deterministic: each draws its data from a generator seeded
// by its name, so a failure replays by running the same check again.
package haltest
