// Package failhook runs the action cmcsync serve takes when the engine
// fails over: a hook command (an argv, run without a shell, with the
// event in its environment, under a timeout, its output captured) or a
// built-in (BuiltinAltBoot: arm the AST2600's alternate-boot watchdog).
//
// An action runs once per failover; it is never retried (a hook that fails
// is reported and left for a person: a retry loop that keeps resetting a
// board is worse than one failed attempt).
package failhook

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Event is what an action learns of the failover.
type Event struct {
	ActiveChip   int       // the chip now active: 0 primary, 1 backup
	ActiveDevice string    // its flash spec
	Generation   uint64    // the round's generation
	Reason       string    // the engine's failover detail
	Time         time.Time // when the engine failed over
}

// Env returns the event as the environment variables a hook gets:
// CMCSYNC_EVENT=failover, CMCSYNC_ACTIVE_CHIP, CMCSYNC_ACTIVE_DEVICE,
// CMCSYNC_GENERATION, CMCSYNC_REASON and CMCSYNC_TIME (RFC 3339, UTC).
func (e Event) Env() []string {
	return []string{
		"CMCSYNC_EVENT=failover",
		"CMCSYNC_ACTIVE_CHIP=" + strconv.Itoa(e.ActiveChip),
		"CMCSYNC_ACTIVE_DEVICE=" + e.ActiveDevice,
		"CMCSYNC_GENERATION=" + strconv.FormatUint(e.Generation, 10),
		"CMCSYNC_REASON=" + e.Reason,
		"CMCSYNC_TIME=" + e.Time.UTC().Format(time.RFC3339),
	}
}

// Result is what an action did.
type Result struct {
	Action   string        // the action's name
	ExitCode int           // the command's exit status; -1 if it did not exit by itself (timeout, signal, not started)
	Err      error         // nil: success
	Duration time.Duration // how long it ran
	Output   string        // the tail of its output (stdout and stderr), at most OutputTail bytes
}

// OK reports success.
func (r Result) OK() bool { return r.Err == nil }

// String is the result on one line, for the daemon's history.
func (r Result) String() string {
	var b strings.Builder
	if r.OK() {
		fmt.Fprintf(&b, "%s succeeded", r.Action)
	} else {
		fmt.Fprintf(&b, "FAILED: %s: %v", r.Action, r.Err)
	}
	fmt.Fprintf(&b, " (exit %d, %.3f s)", r.ExitCode, r.Duration.Seconds())
	if out := strings.TrimSpace(r.Output); out != "" {
		fmt.Fprintf(&b, "; output: %s", strings.ReplaceAll(out, "\n", " | "))
	}
	return b.String()
}

// Action is what runs on a failover. Run must return by ctx's end.
type Action interface {
	Name() string
	Run(ctx context.Context, ev Event) Result
}

// Errors of Parse.
var (
	ErrEmpty   = errors.New("empty failover action")
	ErrBuiltin = errors.New("unknown built-in failover action")
)

// BuiltinPrefix marks a built-in action in a spec.
const BuiltinPrefix = "builtin:"

// DefaultTimeout bounds a hook command.
const DefaultTimeout = 30 * time.Second

// Parse reads an action spec: "builtin:NAME" (see Builtins), or a command
// line split on white space into an argv (no shell and no quoting: a
// command that needs either is a script). timeout bounds a command (0:
// DefaultTimeout).
func Parse(spec string, timeout time.Duration) (Action, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, ErrEmpty
	}
	if name, ok := strings.CutPrefix(spec, BuiltinPrefix); ok {
		b, ok := builtins[name]
		if !ok {
			return nil, fmt.Errorf("%w %q (known: %s)", ErrBuiltin, name, strings.Join(Builtins(), ", "))
		}
		return b(), nil
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Command{Argv: strings.Fields(spec), Timeout: timeout}, nil
}
