// Package fwimage identifies the firmware image on a boot flash partition,
// so that an upgrade can be told from a reboot and a version shown to a
// user: [Identify] reads a U-Boot legacy image ("uImage", [ReadUImage]) or
// a Flattened Image Tree ("FIT", [ReadFIT]) from an [io.ReaderAt] and
// returns an [Identity]: name, version, build time, size and CRC-32.
//
// # U-Boot legacy image
//
// A 64-byte big-endian header (U-Boot include/image.h, struct
// legacy_img_hdr; see [UImage]) then the data. ReadUImage checks the magic
// number 0x27051956, the header CRC-32 (IEEE, computed with the CRC field
// zero), that the data fits the partition, and the data CRC-32.
//
// # FIT
//
// A flattened device tree (magic 0xd00dfeed, version 17; 16 is read too)
// whose root carries "description" and "timestamp", /images one node per
// component with its data (a "data" property, or "data-offset" after the
// blob or "data-position" with "data-size") and hash nodes, and
// /configurations with a "default". FIT has no standard version property;
// ReadFIT takes a "version" string from the root, the default
// configuration, or that configuration's firmware or kernel image, in that
// order. ReadFIT checks the header and every block boundary, every token
// of the structure block, each image's data extent and each hash node of
// algorithm crc32, md5, sha1, sha256, sha384 or sha512.
//
// # Bounded reads
//
// A partition may be tens of megabytes. Everything is read through small
// buffers; property values over 4 KiB (image data) are located, never
// held; the strings block, the tree's depth and node count are capped.
// Nothing here panics on any input or reads outside [0, size).
package fwimage
