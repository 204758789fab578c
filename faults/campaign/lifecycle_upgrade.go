package campaign

import (
	"github.com/cmcsync/cmcsync/faults/reference"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
)

// checkUpgrade judges upgrade-kept from the flash, not from the engine:
// the active chip is the one the newest role names (faults/reference), its
// image version the one its image header says, and the version it is held
// to the one recorded with the newest generation of the other chip's
// store, the generations taken from the active chip (docs/DESIGN.md, The
// method, upgrade choice: after a failback, chip A's version from before
// the failover, not chip B's). Then the engine must report an upgrade
// waiting exactly when the two differ, and that version as the committed
// one. When the other chip's store holds no generation (no round ever
// took one from the active chip: the first failover to chip B), nothing
// is asked: the first generation taken from the chip records its image.
// A store that does not decode (a format or reseed cut short) leaves the
// step unjudged.
func (j *lifeJudge) checkUpgrade(vs verdicts, e *engine.Engine, when string) {
	var bks [2]*reference.Backup
	for i, c := range j.chips {
		bk, err := decodeChip(c, j.chips[1-i], i, j.layout.StoreOff, j.layout.StoreSize)
		if err != nil {
			return
		}
		bks[i] = bk
	}
	role, ok := reference.NewestRole(bks[0], bks[1])
	if !ok {
		return
	}
	act := int(role.Active)
	st := e.Status()
	if st.ActiveChip != act {
		vs.fail(UpgradeKept, "%s: the roles on flash make chip %d active, the engine chip %d", when, act, st.ActiveChip)
		return
	}
	h, err := info.ReadImageHeader(j.chips[act])
	if err != nil {
		vs.fail(UpgradeKept, "%s: the active chip's image header does not read: %v", when, err)
		return
	}
	held := bks[1-act].Committed
	if held.Generation == 0 {
		newest := bks[act].Committed
		if newest.Generation == 0 {
			return // nothing committed yet
		}
		if st.UpgradePending || st.CommittedVersion != newest.ImageVersion {
			vs.fail(UpgradeKept, "%s: chip %d runs %q, no generation was taken from it (generation %d, from the other chip, recorded %q), and the engine reports pending %v, committed version %q",
				when, act, h.Version, newest.Generation, newest.ImageVersion, st.UpgradePending, st.CommittedVersion)
			return
		}
		vs.ok(UpgradeKept, "%s: chip %d runs %q, none taken from it yet, pending %v", when, act, h.Version, st.UpgradePending)
		return
	}
	want := h.Version != held.ImageVersion
	if st.UpgradePending != want {
		vs.fail(UpgradeKept, "%s: chip %d runs version %q, generation %d taken from it recorded %q, and the engine reports an upgrade waiting: %v",
			when, act, h.Version, held.Generation, held.ImageVersion, st.UpgradePending)
		return
	}
	if held.ImageVersion != "" && st.CommittedVersion != held.ImageVersion {
		vs.fail(UpgradeKept, "%s: chip %d's image is held to %q (generation %d), the engine reports committed version %q",
			when, act, held.ImageVersion, held.Generation, st.CommittedVersion)
		return
	}
	vs.ok(UpgradeKept, "%s: chip %d runs %q, committed %q (generation %d), pending %v", when, act, h.Version, held.ImageVersion, held.Generation, st.UpgradePending)
}
