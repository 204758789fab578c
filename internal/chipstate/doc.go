// Package chipstate finds out where cmcsync lives on a chip and what a
// chip holds before a command touches it: the places of the information
// region and the store (Places, resolved by PairLayout for every command:
// partitions by name from sysfs or byte ranges, or offsets and sizes, with
// the size the region's header records; see docs/LAYOUT.md, Places), the
// image identity source, and whether a chip holds a cmcsync store, a
// region or any other data (Survey), so that formatting refuses a chip it
// would erase data on unless the user names that chip.
//
// It reads only. It sits between the command line and the engine: it
// imports hal, config (the one number syntax), internal/flashspec,
// source/fwimage, sync/info, sync/store and sync/engine.
package chipstate
