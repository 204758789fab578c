// Package altboot arms the AST2600's alternate-boot watchdog (the FMC's
// WDT2, "ABR"), so that the SoC resets and boots from the other boot flash
// (FMC CS1 when it booted from CS0, and back) unless the watchdog is
// stopped first. Dual-boot BMC firmware arms it at boot and stops it once
// the image proved good; cmcsync arms it after a failover, when the
// information the backup image needs has been restored, so the CMC comes
// up on the chip that is now active.
//
// Registers (FMC controller, base 0x1E620000; 32-bit, little endian), as
// Facebook's OpenBMC u-boot code for dual-boot AST2600 boards uses them
// (facebook/openbmc, u-boot recipe header fmc_dual_boot_ast2600.h and its
// "wtd start" command, fmc_enable_dual_boot) and ASPEED's Zephyr ABR
// driver (AspeedTech-BMC zephyr, drivers/misc/aspeed abr_aspeed.c, which
// reads the same FMC064 at 0x7e620064 on the AST1030):
//
//	FMC064  WDT2 control/status: bit 0 enable; bit 4 (read) booted from
//	        the alternate flash; writing 0xEA in bits 31:24 clears the
//	        event counter, 0xEA in bits 23:16 the boot indicator
//	FMC068  WDT2 reload value, in units of 0.1 s, 13 bits wide
//	FMC06C  WDT2 counter restart: write the magic 0x4755
//
// The arming sequence is the u-boot one: disable, load the reload value,
// restart the counter, enable. (The SoC's general watchdogs at 0x1E785000
// have their own "boot from the second flash" control bit, bit 7 of
// WDT_CTRL, which Linux's drivers/watchdog/aspeed_wdt.c sets for the
// device-tree property "aspeed,alt-boot"; that path needs the kernel
// driver's cooperation and is not used here.)
package altboot

import (
	"errors"
	"fmt"
	"time"
)

// FMCBase is the physical address of the AST2600's FMC (boot SPI)
// controller registers.
const FMCBase = 0x1E620000

// Offsets of the WDT2 registers from FMCBase.
const (
	RegWDT2Ctrl    = 0x64 // control/status
	RegWDT2Reload  = 0x68 // reload value, 0.1 s units
	RegWDT2Restart = 0x6C // write RestartMagic to restart the counter
)

// Values written to the WDT2 registers.
const (
	CtrlDisable  = 0x0
	CtrlEnable   = 0x1
	RestartMagic = 0x4755
	// CtrlBootAlternate is the status bit that reads 1 when the SoC
	// booted from the alternate flash.
	CtrlBootAlternate = 1 << 4
	// ReloadUnit is the reload register's unit; ReloadMax its largest
	// value (13 bits).
	ReloadUnit = 100 * time.Millisecond
	ReloadMax  = 1<<13 - 1
)

// DefaultTimeout is the delay before the armed watchdog resets the SoC:
// long enough for the daemon to log the failover and for a clean reboot
// the platform may start on its own.
const DefaultTimeout = 30 * time.Second

// ErrTimeout is wrapped by the error of a timeout the register cannot hold.
var ErrTimeout = errors.New("alt-boot watchdog timeout out of range")

// Regs reads and writes 32-bit registers at byte offsets from a base.
// Implementations: DevMem (Linux, /dev/mem) and Fake (tests).
type Regs interface {
	Read32(off uint32) (uint32, error)
	Write32(off uint32, v uint32) error
	Close() error
}

// Reload returns the reload register's value for timeout, or an error
// wrapping ErrTimeout if it is not between ReloadUnit and ReloadMax units.
func Reload(timeout time.Duration) (uint32, error) {
	n := timeout / ReloadUnit
	if n < 1 || n > ReloadMax || timeout%ReloadUnit != 0 {
		return 0, fmt.Errorf("%w: %v (want a multiple of %v from %v to %v)", ErrTimeout, timeout, ReloadUnit, ReloadUnit, ReloadMax*ReloadUnit)
	}
	return uint32(n), nil
}

// Arm arms WDT2 to reset the SoC into the other boot flash after timeout:
// disable, reload, restart, enable (the order the u-boot code uses, so a
// counter left running from before never fires with a stale value). It
// returns whether the SoC booted from the alternate flash this time (the
// status bit, read before the writes), for the caller's log.
func Arm(r Regs, timeout time.Duration) (bootedAlternate bool, err error) {
	reload, err := Reload(timeout)
	if err != nil {
		return false, err
	}
	st, err := r.Read32(RegWDT2Ctrl)
	if err != nil {
		return false, fmt.Errorf("alt-boot: read FMC%03X: %w", RegWDT2Ctrl, err)
	}
	for _, w := range []struct{ off, v uint32 }{
		{RegWDT2Ctrl, CtrlDisable},
		{RegWDT2Reload, reload},
		{RegWDT2Restart, RestartMagic},
		{RegWDT2Ctrl, CtrlEnable},
	} {
		if err := r.Write32(w.off, w.v); err != nil {
			return false, fmt.Errorf("alt-boot: write FMC%03X=%#x: %w", w.off, w.v, err)
		}
	}
	return st&CtrlBootAlternate != 0, nil
}
