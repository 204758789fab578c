// Package flashspec parses the flash specs of cmcsync's command line and
// opens the flash they name.
//
// Two backends:
//
//	sim:part=w25q256jv,size=4M[,file=PATH][,timing=max|spread][,name=N][,erase=64k]
//	sim:profile=PATH[,size=N][,...]
//	mtd:/dev/mtdN
//	mtd:name=PARTITION
//
// A sim spec names a part profile of package sim (part, required unless
// profile is given), or a part profile file (profile=PATH, a sim.Profile
// as `cmcsync calibrate` writes it: it must be well-formed and physically
// plausible, sim.Part.CheckPlausible), a size (size, optional: the whole
// part; a positive multiple of the part's erase size, at most its size; a
// number of bytes with an optional K, M or G binary suffix), an image file
// to persist to (file), the timing (timing=typical, the default;
// timing=max, the maximum on every operation; timing=spread, each
// operation drawn between typical and maximum, sim.Options.Spread), the
// device name used in messages (name) and the erase unit of the Linux MTD
// layer the chip stands for (erase=4k, the default, as a kernel with
// CONFIG_MTD_SPI_NOR_USE_4K_SECTORS erases, or erase=64k, a kernel without
// it: the chip then reports a 64 KiB erase size and sizes must be
// multiples of 64 KiB; SPI NOR parts only; see sim.EraseModel). An mtd
// spec names a Linux MTD character device, or a partition by its name as
// /proc/mtd lists it (mtd:name=flash1; Spec.Resolve finds its device, and
// Open resolves it first).
//
// Keys are separated by commas. A value holding a comma (a path such as
// /tmp/run,1/a.img) is written in double quotes, file="/tmp/run,1/a.img";
// inside the quotes \" is a quote and \\ a backslash, and no other escape
// exists. An unquoted value runs to the next comma and is taken as written
// (a quote or backslash inside it is literal). A spec whose keys do not
// parse after an unquoted file, profile or name says that a comma
// separates keys and shows that value quoted.
//
// Parse rejects unknown keys, unknown parts, bad sizes, empty values and
// repeated keys with an error naming what is allowed; Spec.String gives back
// a spec that parses to the same Spec (quoting a value that holds a comma
// or starts with a quote). A profile file is read when the spec
// is parsed (and again when it is opened).
package flashspec
