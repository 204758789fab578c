package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/web"
)

func init() {
	register(command{name: "failback", summary: "re-seed chip A from the backup after a failover and make it active again", run: runFailback})
}

// failbackResult is failback's --json output (the API's answer too).
type failbackResult struct {
	Generation uint64   `json:"generation"`
	Types      []string `json:"types"`
	RoleEpoch  uint64   `json:"role_epoch"`
	ActiveChip int      `json:"active_chip"`
}

func runFailback(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("failback", stderr,
		"usage: cmcsync failback --primary SPEC --backup SPEC [--config FILE] [--json]",
		"\nAfter a failover chip B runs the active image. Once chip A is repaired or",
		"replaced (and carries its firmware image), failback writes the newest",
		"committed generation into chip A's information region, reads each record",
		"back, and only then records chip A as the active chip again. A power cut",
		"leaves either the old roles or chip A active with all its information.",
		"It refuses, changing nothing, with exit status 3 when chip A is already",
		"active, nothing was committed, the failover's restore is still pending, or",
		"chip A does not answer in time. While cmcsync serve holds the chips, it",
		"goes through the daemon's API (with --config naming its configuration).")
	pf := addPairFlags(fs)
	if done, err := parseFlags(fs, args); done {
		return err
	}
	e, c, err := pf.openOrDaemon(ctx, fs, stderr, "failback", "failing back through its API")
	if err != nil {
		return err
	}
	var res failbackResult
	if c != nil {
		fb, err := c.Failback(ctx)
		switch {
		case errors.Is(err, web.ErrConflict):
			return &exitError{code: exitRefused, msg: fmt.Sprintf("failback: %v", err)}
		case err != nil:
			return fmt.Errorf("failback: %w", err)
		}
		res = failbackResult(fb)
	} else {
		defer func() { err = e.CloseAfter(err, false) }()
		rep, err := e.Failback(ctx)
		switch {
		case errors.Is(err, engine.ErrFailbackRefused):
			// "failback: refused: …", as reseed says it, not "failback: failback refused: …".
			return &exitError{code: exitRefused, msg: "failback: " + strings.TrimPrefix(err.Error(), "failback ")}
		case err != nil:
			return fmt.Errorf("failback: %w (chip B stays active; run failback again)", err)
		}
		res = failbackResult(rep)
	}
	if res.Types == nil {
		res.Types = []string{}
	}
	if *pf.json {
		return writeJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "failback: chip A re-seeded from generation %d (%d types) and active again; role epoch %d\n", res.Generation, len(res.Types), res.RoleEpoch)
	return nil
}
