package vm

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"
)

// ErrNoQMP is returned by Freeze for a machine started without a QMP
// socket (Config.QMP).
var ErrNoQMP = errors.New("machine has no QMP socket")

// Freeze stops the guest's CPUs through QMP ("stop") and returns once
// QEMU has stopped them, which drains and flushes its block layer: every
// write the guest saw complete (an SPI NOR page program the m25p80 model
// writes back to the image asynchronously) is in the image file. The
// guest issues nothing more; Kill then cuts the power with the image as
// the chip's cells were.
func (m *Machine) Freeze(ctx context.Context, timeout time.Duration) error {
	if m.qmp == "" {
		return ErrNoQMP
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", m.qmp)
	if err != nil {
		return fmt.Errorf("qmp: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	r := bufio.NewReader(conn)
	// The greeting, then capabilities negotiation, then stop; events
	// (STOP) may come between the replies.
	if _, err := r.ReadBytes('\n'); err != nil {
		return fmt.Errorf("qmp greeting: %w", err)
	}
	for _, cmd := range []string{"qmp_capabilities", "stop"} {
		if _, err := fmt.Fprintf(conn, "{\"execute\":%q}\n", cmd); err != nil {
			return fmt.Errorf("qmp %s: %w", cmd, err)
		}
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				return fmt.Errorf("qmp %s: %w", cmd, err)
			}
			var reply struct {
				Return json.RawMessage `json:"return"`
				Error  *struct {
					Desc string `json:"desc"`
				} `json:"error"`
			}
			if err := json.Unmarshal(line, &reply); err != nil {
				return fmt.Errorf("qmp %s: %w", cmd, err)
			}
			if reply.Error != nil {
				return fmt.Errorf("qmp %s: %s", cmd, reply.Error.Desc)
			}
			if reply.Return != nil {
				break
			}
		}
	}
	return nil
}
