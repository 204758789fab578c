// Package config decodes cmcsync's configuration file (cmcsync serve
// --config FILE, and the same for sync and the commands that open chips).
//
// The file is one JSON object (docs/CONFIG.md is the reference; an example
// for a dual-flash AST2600 CMC is deploy/cmcsync.json). Every key stands for
// a command-line flag; [File.Apply] sets the flags the command line did not
// set, so flags override the file. Decoding is strict: an unknown key, a
// key given twice, a value of the wrong JSON type or one that does not
// parse (a duration, a size, a flash spec, a type list) is an error naming
// the file, the line and the key's dotted path, e.g.
//
//	cmcsync.json:7: chips.backup.device: flash spec "mtd:dev/mtd6": ...
//
// Destructive one-shot actions (--format, --populate, --force) have no key
// on purpose: a configuration file is read at every start (by systemd, at
// every restart), and a key there would erase the chips at each one.
//
// A selection of information types (the select key, and the command
// line's config set --types and sync --select) is parsed by [ParseTypes]
// and checked by the API's own check (web.CheckTypes), so the file, the
// flags and the API accept and refuse the same selections.
//
// The package imports hal, internal/flashspec and sync/info for their
// value syntaxes, and web for that check, only; it opens nothing.
package config
