// Package sdnotify speaks systemd's service notification protocol
// (sd_notify(3)) without libsystemd: a datagram of "KEY=VALUE" lines sent
// to the unix socket named by $NOTIFY_SOCKET. cmcsync serve uses it under
// a Type=notify unit: READY=1 once it serves, WATCHDOG=1 while its
// engine runs, STOPPING=1 when it shuts down.
//
// Without $NOTIFY_SOCKET (not started by systemd, or a unit of another
// type) every call does nothing and reports false.
package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// States a service sends.
const (
	Ready    = "READY=1"
	Stopping = "STOPPING=1"
	Watchdog = "WATCHDOG=1"
)

// Notify sends state (one or more "KEY=VALUE" lines) to the socket of
// $NOTIFY_SOCKET. It reports whether a socket was named; an error means
// the socket was named but the message could not be sent.
func Notify(state string) (bool, error) {
	return NotifySocket(os.Getenv("NOTIFY_SOCKET"), state)
}

// NotifySocket sends state to the socket at path: a file system path, or
// an abstract socket written with a leading '@'. "" sends nothing.
func NotifySocket(path, state string) (bool, error) {
	if path == "" {
		return false, nil
	}
	if path[0] != '/' && path[0] != '@' {
		return true, fmt.Errorf("sd_notify: NOTIFY_SOCKET=%q is neither a path nor an abstract socket (@name)", path)
	}
	name := path
	if path[0] == '@' {
		name = "\x00" + path[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return true, fmt.Errorf("sd_notify: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return true, fmt.Errorf("sd_notify: %w", err)
	}
	return true, nil
}

// Status formats a STATUS= line (a free-form status systemctl status
// shows); newlines become spaces.
func Status(s string) string { return "STATUS=" + strings.ReplaceAll(s, "\n", " ") }

// WatchdogInterval is how often the service must send WATCHDOG=1:
// $WATCHDOG_USEC, when $WATCHDOG_PID is unset or this process. 0: no
// watchdog. A malformed value is an error.
func WatchdogInterval() (time.Duration, error) {
	return watchdogInterval(os.Getenv("WATCHDOG_USEC"), os.Getenv("WATCHDOG_PID"), os.Getpid())
}

func watchdogInterval(usec, pid string, self int) (time.Duration, error) {
	if usec == "" {
		return 0, nil
	}
	if pid != "" {
		p, err := strconv.Atoi(pid)
		if err != nil {
			return 0, fmt.Errorf("sd_notify: WATCHDOG_PID=%q is not a number", pid)
		}
		if p != self {
			return 0, nil // meant for another process
		}
	}
	n, err := strconv.ParseUint(usec, 10, 63)
	if err != nil || n == 0 {
		return 0, errors.New("sd_notify: WATCHDOG_USEC=" + strconv.Quote(usec) + " is not a positive number of microseconds")
	}
	return time.Duration(n) * time.Microsecond, nil
}
