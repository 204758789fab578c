package vm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrTimeout is wrapped by Expect when the pattern did not appear in time.
var ErrTimeout = errors.New("timed out waiting for the guest")

// ErrExited is wrapped by Expect when the guest's console closed (QEMU
// exited) before the pattern appeared.
var ErrExited = errors.New("guest exited")

// Console is the guest's serial console as seen by the host: everything the
// guest printed (carriage returns removed), a read cursor that Expect
// advances past each match, and the guest's input. It is safe for
// concurrent use.
type Console struct {
	mu      sync.Mutex
	buf     strings.Builder
	cursor  int
	changed chan struct{}
	closed  bool
	readErr error
	in      io.Writer
	log     io.Writer
	seq     int
	begins  map[int]int // command id -> output length when it was sent
}

// NewConsole reads the guest's output from out until EOF (in a goroutine)
// and sends input to in. Every byte read is also copied to log (if non-nil).
// It closes out (if it is an io.Closer) once a read fails or ends.
func NewConsole(out io.Reader, in io.Writer, log io.Writer) *Console {
	c := &Console{changed: make(chan struct{}), in: in, log: log}
	go c.pump(out)
	return c
}

func (c *Console) pump(r io.Reader) {
	b := make([]byte, 4096)
	for {
		n, err := r.Read(b)
		if n > 0 {
			chunk := strings.ReplaceAll(string(b[:n]), "\r", "")
			c.mu.Lock()
			c.buf.WriteString(chunk)
			if c.log != nil {
				_, _ = io.WriteString(c.log, chunk)
			}
			close(c.changed)
			c.changed = make(chan struct{})
			c.mu.Unlock()
		}
		if err != nil {
			if cl, ok := r.(io.Closer); ok {
				_ = cl.Close()
			}
			c.mu.Lock()
			c.closed = true
			if !errors.Is(err, io.EOF) {
				c.readErr = err
			}
			close(c.changed)
			c.changed = make(chan struct{})
			c.mu.Unlock()
			return
		}
	}
}

// Send writes s to the guest's console input.
func (c *Console) Send(s string) error {
	if c.in == nil {
		return errors.New("console has no input")
	}
	if _, err := io.WriteString(c.in, s); err != nil {
		return fmt.Errorf("send to guest: %w", err)
	}
	return nil
}

// Expect waits until re matches the output after the cursor, moves the
// cursor past the match and returns the submatches (index 0: the whole
// match). It fails with ErrTimeout after timeout, with ErrExited when the
// console closes first, or with ctx's error. The error includes the tail
// of the output, for diagnosis.
func (c *Console) Expect(ctx context.Context, re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	var m []string
	err := c.await(ctx, fmt.Sprintf("%q", re), timeout, func(s string) int {
		loc := re.FindStringSubmatchIndex(s)
		if loc == nil {
			return -1
		}
		m = make([]string, len(loc)/2)
		for i := range m {
			if loc[2*i] >= 0 {
				m[i] = s[loc[2*i]:loc[2*i+1]]
			}
		}
		return loc[1]
	})
	return m, err
}

// ExpectLine waits until a complete line (one that ends with a newline)
// after the cursor satisfies match, moves the cursor past that line and
// returns it without its newline. match sees each line once per wait and
// may keep what it decoded from the one it accepts; what names the line
// in errors. It fails as Expect does.
func (c *Console) ExpectLine(ctx context.Context, what string, match func(line string) bool, timeout time.Duration) (string, error) {
	var line string
	scanned := 0 // bytes after the cursor already shown to match
	err := c.await(ctx, what, timeout, func(s string) int {
		for {
			i := strings.IndexByte(s[scanned:], '\n')
			if i < 0 {
				return -1
			}
			l := s[scanned : scanned+i]
			scanned += i + 1
			if match(l) {
				line = l
				return scanned
			}
		}
	})
	return line, err
}

// await waits until find, given the output after the cursor, returns the
// length of the part it consumed (-1: not there yet), and moves the cursor
// past it. what names the awaited output in errors.
func (c *Console) await(ctx context.Context, what string, timeout time.Duration, find func(s string) int) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		c.mu.Lock()
		if n := find(c.buf.String()[c.cursor:]); n >= 0 {
			c.cursor += n
			c.mu.Unlock()
			return nil
		}
		closed, changed := c.closed, c.changed
		c.mu.Unlock()
		if closed {
			return fmt.Errorf("%w before %s appeared; last output:\n%s", ErrExited, what, c.Tail(2000))
		}
		select {
		case <-changed:
		case <-timer.C:
			return fmt.Errorf("%w: %s did not appear within %v; last output:\n%s", ErrTimeout, what, timeout, c.Tail(2000))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Output returns everything the guest printed so far.
func (c *Console) Output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// Tail returns the last n bytes of the output.
func (c *Console) Tail(n int) string {
	s := c.Output()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}

// Closed reports whether the console's output has ended.
func (c *Console) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Result is the outcome of a command run in the guest's shell.
type Result struct {
	// Output is what the command printed (stdout and stderr, in order).
	Output string
	// Status is its exit status.
	Status int
}

// Run types cmd into the guest's shell and waits, at most timeout, for it
// to finish. The output is delimited with markers the typed line itself
// cannot match, so the shell's echo of the command is not part of it.
func (c *Console) Run(ctx context.Context, cmd string, timeout time.Duration) (Result, error) {
	id := c.Begin(cmd)
	return c.Finish(ctx, id, timeout)
}

// Begin types cmd into the guest's shell without waiting; Finish(id) waits
// for it. Between the two, the caller may Expect output of the command.
func (c *Console) Begin(cmd string) int {
	c.mu.Lock()
	c.seq++
	id := c.seq
	if c.begins == nil {
		c.begins = map[int]int{}
	}
	c.begins[id] = c.buf.Len()
	c.mu.Unlock()
	line := fmt.Sprintf("echo '@@B''%d@@'; %s; echo \"@@E\"\"%d $?@@\"\n", id, cmd, id)
	if err := c.Send(line); err != nil {
		return -id
	}
	return id
}

// Finish waits for the command begun with id and returns its result. Its
// output is found even if Expect calls after Begin moved the cursor past
// its start.
func (c *Console) Finish(ctx context.Context, id int, timeout time.Duration) (Result, error) {
	if id < 0 {
		return Result{}, errors.New("the command could not be sent to the guest")
	}
	c.mu.Lock()
	if pos, ok := c.begins[id]; ok && pos < c.cursor {
		c.cursor = pos
	}
	delete(c.begins, id)
	c.mu.Unlock()
	begin := regexp.MustCompile(fmt.Sprintf(`@@B%d@@\n`, id))
	if _, err := c.Expect(ctx, begin, timeout); err != nil {
		return Result{}, err
	}
	start := c.cursorPos()
	end := regexp.MustCompile(fmt.Sprintf(`@@E%d (\d+)@@`, id))
	got, err := c.Expect(ctx, end, timeout)
	if err != nil {
		return Result{Output: c.Output()[start:]}, err
	}
	out := c.Output()
	stop := c.cursorPos() - len(got[0])
	st, _ := strconv.Atoi(got[1])
	return Result{Output: out[start:stop], Status: st}, nil
}

func (c *Console) cursorPos() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cursor
}
