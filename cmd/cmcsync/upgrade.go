package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cmcsync/cmcsync/internal/jsonout"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/web"
)

func init() {
	register(command{name: "upgrade", summary: "make the pending image-upgrade choice: keep or restore", run: runUpgrade})
}

// upgradeResult is upgrade's --json output.
type upgradeResult struct {
	Choice string         `json:"choice"`
	Round  jsonout.Round  `json:"round"`
	Status jsonout.Status `json:"status"`
}

func runUpgrade(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	run := func(choice engine.UpgradeChoice) func(context.Context, []string, io.Writer, io.Writer) error {
		return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			return runUpgradeChoice(ctx, choice, args, stdout, stderr)
		}
	}
	return subcommand(ctx, "upgrade", map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"keep": run(engine.KeepUpgraded), "restore": run(engine.RestoreDefaults),
	}, args, stdout, stderr)
}

func runUpgradeChoice(ctx context.Context, choice engine.UpgradeChoice, args []string, stdout, stderr io.Writer) (err error) {
	name := map[engine.UpgradeChoice]string{engine.KeepUpgraded: "keep", engine.RestoreDefaults: "restore"}[choice]
	fs := newFlagSet("upgrade "+name, stderr,
		fmt.Sprintf("usage: cmcsync upgrade %s --primary SPEC --backup SPEC [--config FILE] [--json]", name),
		"\nAfter the primary's firmware image was upgraded, rounds wait for a choice:",
		"  keep     sync the upgraded image's information as the new baseline",
		"  restore  write each selected type's preset defaults to the primary's",
		"           information region (replacing what it holds), then sync them",
		"The choice is committed with the round it runs. Without a pending upgrade it",
		"is refused: it changes nothing and exits 3.")
	pf := addPairFlags(fs)
	if done, err := parseFlags(fs, args); done {
		return err
	}
	e, c, err := pf.openOrDaemon(ctx, fs, stderr, "upgrade "+name, "choosing through its API")
	if err != nil {
		return err
	}
	if c != nil {
		st, err := c.Upgrade(ctx, web.UpgradeChoice(choice.String()))
		switch {
		case errors.Is(err, web.ErrNoUpgrade):
			// Refused, nothing done: exit 3 (docs/CLI.md, Exit status).
			return &exitError{code: exitRefused, msg: fmt.Sprintf("upgrade %s: %v", name, err)}
		case err != nil:
			return fmt.Errorf("upgrade %s: %w", name, err)
		}
		if *pf.json {
			return writeJSON(stdout, struct {
				Choice     string `json:"choice"`
				Generation uint64 `json:"generation"`
			}{choice.String(), st.Generation})
		}
		fmt.Fprintf(stdout, "upgrade: %s through the daemon; generation %d\n", choice, st.Generation)
		return nil
	}
	defer func() { err = e.CloseAfter(err, false) }()
	if err := e.requireBackupStore("upgrade " + name); err != nil {
		return err
	}
	if st := e.Status(); !st.UpgradePending {
		return &exitError{code: exitRefused, msg: fmt.Sprintf("upgrade %s: no image upgrade is pending (the primary runs %q, the version committed): nothing to choose", name, st.CommittedVersion)}
	}
	rep, roundErr := e.UpgradeRound(ctx, choice)
	res := upgradeResult{Choice: choice.String(), Round: jsonout.FromRound(rep), Status: jsonout.FromStatus(e.Status())}
	if *pf.json {
		if err := writeJSON(stdout, res); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "upgrade: %s; round %s, generation %d\n", choice, rep.Outcome, rep.Generation)
	}
	if roundErr != nil {
		code := exitFailure
		if errors.Is(roundErr, engine.ErrCommittedConfig) {
			code = exitRefused // refused before anything is written
		}
		return &exitError{code: code, msg: roundFailure("upgrade "+name, rep.Outcome, roundErr)}
	}
	return nil
}
