// Package assets fetches what a QEMU-booted CMC needs from Debian's packages:
// a kernel, its device tree (for the ASPEED fuji-bmc machine), the kernel
// modules that drive the flash chips (with their dependencies, read from each
// module's .modinfo section) and a static busybox.
//
// Fetch resolves the current package versions with apt-cache, downloads them
// with `apt-get download`, unpacks them with `dpkg-deb -x` into a cache folder
// and writes a Manifest (manifest.json) recording exactly what was used. A
// later Fetch reuses the cache without touching apt unless asked to refresh.
//
// When a tool or a package index is missing, the error says what to install
// or run (for example `dpkg --add-architecture armhf && apt-get update`).
package assets
