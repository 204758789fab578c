package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/cmcsync/cmcsync/config"
	"github.com/cmcsync/cmcsync/internal/jsonout"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/web"
)

func init() {
	register(command{name: "config", summary: "show or change the stored sync configuration: get, set", run: runConfig})
}

func runConfig(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return subcommand(ctx, "config", map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"get": runConfigGet, "set": runConfigSet,
	}, args, stdout, stderr)
}

func printConfig(w io.Writer, c engine.Config) {
	fmt.Fprintf(w, "types %s\ninterval %v\nthreshold %v\nverify %v\ngroup-size %d\nretry-at-once %v\n",
		info.FormatList(c.Types), c.Interval, c.Threshold, c.Verify, c.GroupSize, c.RetryAtOnce)
}

func runConfigGet(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("config get", stderr,
		"usage: cmcsync config get --primary SPEC --backup SPEC [--config FILE] [--json]",
		"\nPrints the sync configuration stored on the backup (the one rounds use). It",
		"only reads: nothing is written to either chip, not even the repairs a",
		"writing command's open makes (an interrupted round is noted on standard",
		"error and left for cmcsync sync).")
	pf := addPairFlags(fs)
	if done, err := parseFlags(fs, args); done {
		return err
	}
	e, c, err := pf.openOrDaemonReadOnly(ctx, fs, stderr, "config get", "asking its API")
	if err != nil {
		return err
	}
	if c != nil {
		wc, err := c.Config(ctx)
		if err != nil {
			return fmt.Errorf("config get: %w", err)
		}
		return outputConfig(stdout, fromWebConfig(wc), *pf.json)
	}
	defer func() { err = e.CloseAfter(err, true) }()
	if err := e.requireBackupStore("config get"); err != nil {
		return err
	}
	// The configuration is the committed one whatever is pending (a
	// purge leaves it, a restore writes only information).
	if err := e.readOnlyPending("config get", stderr, false); err != nil {
		return err
	}
	return outputConfig(stdout, e.Config(), *pf.json)
}

func outputConfig(w io.Writer, c engine.Config, asJSON bool) error {
	if asJSON {
		return writeJSON(w, jsonout.FromConfig(c))
	}
	printConfig(w, c)
	return nil
}

// fromWebConfig and toWebConfig convert the API's form of a configuration.
func fromWebConfig(wc web.Config) engine.Config {
	c := engine.Config{Interval: time.Duration(wc.Interval), Threshold: time.Duration(wc.Threshold), Verify: wc.Verify, GroupSize: wc.GroupSize, RetryAtOnce: wc.RetryAtOnce}
	for _, n := range wc.Types {
		if t, err := info.ParseType(n); err == nil {
			c.Types = append(c.Types, t)
		}
	}
	return c
}

func toWebConfig(c engine.Config) web.Config {
	return web.Config{Types: jsonout.Types(c.Types), Interval: web.Duration(c.Interval), Threshold: web.Duration(c.Threshold), Verify: c.Verify, GroupSize: c.GroupSize, RetryAtOnce: c.RetryAtOnce}
}

func runConfigSet(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("config set", stderr,
		"usage: cmcsync config set --primary SPEC --backup SPEC [--config FILE] [--types T,...] [--interval D] [--threshold D] [--verify=BOOL] [--group-size N] [--retry-at-once=BOOL] [--json]",
		"\nChanges the settings given and keeps the others; the result is validated and",
		"committed on the backup at once. While a daemon holds the chips, give its",
		"--config FILE and the change goes through its API.")
	pf := addPairFlags(fs)
	types := fs.String("types", "", "information types to sync, comma-separated, or all")
	interval := fs.Duration("interval", 0, "time between rounds, e.g. 5m")
	threshold := fs.Duration("threshold", 0, "response-time threshold for failover, e.g. 2s")
	verify := fs.Bool("verify", false, "read back what each round writes")
	group := fs.Int("group-size", 0, "types per round, round-robin (0: every selected type each round)")
	retry := fs.Bool("retry-at-once", false, "after a purged round whose primary recovered in time, retry at once")
	if done, err := parseFlags(fs, args); done {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	settings := []string{"types", "interval", "threshold", "verify", "group-size", "retry-at-once"}
	n := 0
	for _, s := range settings {
		if set[s] {
			n++
		}
	}
	if n == 0 {
		return usageError("config set: give at least one of --%s", joinFlags(settings))
	}
	var ts []info.Type
	if set["types"] {
		if ts, err = config.ParseTypes(*types); err != nil {
			return usageError("config set: %v", flagError(err))
		}
	}
	apply := func(c engine.Config) engine.Config {
		if set["types"] {
			c.Types = ts
			if !set["group-size"] {
				c.GroupSize = min(c.GroupSize, len(ts))
			}
		}
		if set["interval"] {
			c.Interval = *interval
		}
		if set["threshold"] {
			c.Threshold = *threshold
		}
		if set["verify"] {
			c.Verify = *verify
		}
		if set["group-size"] {
			c.GroupSize = *group
		}
		if set["retry-at-once"] {
			c.RetryAtOnce = *retry
		}
		return c
	}
	e, cl, err := pf.openOrDaemon(ctx, fs, stderr, "config set", "changing it through its API")
	if err != nil {
		return err
	}
	if cl != nil {
		wc, err := cl.Config(ctx)
		if err != nil {
			return fmt.Errorf("config set: %w", err)
		}
		// The limits checked here too, so a value out of range is named by
		// its flag, as without a daemon, not by the API's JSON member.
		c := apply(fromWebConfig(wc))
		if err := apiLimits(c); err != nil {
			return usageError("config set: %v", err)
		}
		stored, err := cl.SetConfig(ctx, toWebConfig(c))
		if err != nil {
			if errors.Is(err, web.ErrInvalid) {
				return usageError("config set: %v", err)
			}
			return fmt.Errorf("config set: %w", err)
		}
		return outputConfig(stdout, fromWebConfig(stored), *pf.json)
	}
	defer func() { err = e.CloseAfter(err, false) }()
	c := apply(e.Config())
	// The API's limits first: they are the narrower, documented ones
	// (docs/CLI.md) and their errors name the flag; the engine's check
	// stays for what they do not cover.
	if err := apiLimits(c); err != nil {
		return usageError("config set: %v", err)
	}
	if err := c.Validate(); err != nil {
		return usageError("config set: %v", err)
	}
	if err := e.SetConfig(c); err != nil {
		return fmt.Errorf("config set: %w", err)
	}
	return outputConfig(stdout, e.Config(), *pf.json)
}

func joinFlags(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", --"
		}
		out += n
	}
	return out
}

// apiLimits checks c against the limits of the API and the page
// (docs/API.md, Config), which are narrower than the engine's: a
// configuration the command line stores must be one the page can show and
// send back unchanged. The error names the flag.
func apiLimits(c engine.Config) error {
	err := toWebConfig(c).Validate(jsonout.Types(info.All()))
	return flagError(err)
}

// flagError names the flag of a *web.FieldError's field (the API's checks
// name JSON fields); other errors are returned as they are.
func flagError(err error) error {
	var fe *web.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	flags := map[string]string{"types": "--types", "interval_seconds": "--interval", "threshold_seconds": "--threshold", "group_size": "--group-size"}
	if f, ok := flags[fe.Field]; ok {
		return fmt.Errorf("%s: %s", f, fe.Msg)
	}
	return err
}
