// Package chipstate finds out what a chip holds before a command touches
// it: the layout its information region's header records (Resolve), and
// whether it holds a cmcsync store, a region or any other data (Survey), so
// that formatting refuses a chip it would erase data on unless the user
// names that chip.
//
// It reads only. It sits between the command line and the engine: it
// imports hal, sync/info, sync/store and sync/engine (for engine.Layout).
package chipstate
