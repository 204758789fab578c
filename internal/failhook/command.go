package failhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"
)

// OutputTail is how much of a command's output a Result keeps (the end).
const OutputTail = 2048

// Command is a hook command: Argv[0] (looked up in PATH) run with
// Argv[1:], the daemon's environment plus the event's (Event.Env), and
// no standard input; killed at Timeout.
type Command struct {
	Argv    []string
	Timeout time.Duration
}

// Name is the command's program.
func (c *Command) Name() string { return c.Argv[0] }

// Run runs the command once and waits for it or its timeout (or ctx's
// end): the process is killed then, and its output pipes are abandoned
// one second later (a child that kept them open cannot hold Run).
func (c *Command) Run(ctx context.Context, ev Event) Result {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	cmd.Env = append(os.Environ(), ev.Env()...)
	cmd.WaitDelay = time.Second
	var out tailBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r := Result{Action: c.Name(), ExitCode: -1, Duration: time.Since(start), Output: out.String()}
	if cmd.ProcessState != nil && cmd.ProcessState.Exited() {
		r.ExitCode = cmd.ProcessState.ExitCode()
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		r.Err = fmt.Errorf("killed after the %v timeout", c.Timeout)
	case err != nil:
		r.Err = err
	}
	return r
}

// tailBuffer keeps the last OutputTail bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	cut bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - OutputTail; over > 0 {
		t.buf = bytes.Clone(t.buf[over:])
		t.cut = true
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cut {
		return "…" + string(t.buf)
	}
	return string(t.buf)
}
