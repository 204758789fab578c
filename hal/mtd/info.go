package mtd

// Info describes the MTD device behind a [Device], as the kernel reports it.
type Info struct {
	Path     string // the character device, e.g. "/dev/mtd6"
	Index    int    // N of /dev/mtdN and /sys/class/mtd/mtdN
	Type     uint8  // mtd_info_user.type, e.g. 3 (MTD_NORFLASH)
	TypeName string // "nor", "nand", "mlc-nand" or "ram"
	Flags    uint32 // mtd_info_user.flags (MTD_WRITEABLE, MTD_BIT_WRITEABLE, ...)
	OOBSize  int64  // out-of-band bytes per page (NAND)
	Sysfs    bool   // the name and size came from sysfs (else: MEMGETINFO and the path)
}
