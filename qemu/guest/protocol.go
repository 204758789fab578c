package guest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/cmcsync/cmcsync/sync/engine"
)

// Prefix starts every line the guest service prints; the rest of the line
// is one JSON object (a [Line]).
const Prefix = "GUEST "

// Event names what a [Line] reports (see the package documentation).
type Event string

// The events, in the order a run prints them.
const (
	EventFormat      Event = "format"
	EventMarkBad     Event = "mark-bad"
	EventOpen        Event = "open"
	EventRepair      Event = "repair"
	EventRoundStart  Event = "round-start"
	EventBackupWrite Event = "backup-write"
	EventRound       Event = "round"
	EventDone        Event = "done"
	EventError       Event = "error"
	// EventOp is an operation a replay's fault injector counted (Op), and
	// EventCut the one its schedule cut: the guest stopped before issuing
	// it and waits for the host to kill the machine.
	EventOp  Event = "op"
	EventCut Event = "cut"
)

// Line is one line of the guest service's output.
type Line struct {
	Event Event `json:"event"`
	// Round numbers the rounds of one run from 1 (0 on lines about no
	// round).
	Round int `json:"round,omitempty"`
	// ElapsedSeconds is the wall time of the step in the guest, in
	// seconds to the microsecond (see Elapsed). Guests built before it
	// printed elapsed_ms (milliseconds); ParseLine converts those.
	ElapsedSeconds float64             `json:"elapsed_seconds"`
	Generation     uint64              `json:"generation"`
	Report         *engine.RoundReport `json:"report,omitempty"`
	Status         *engine.Status      `json:"status,omitempty"`
	Events         []engine.Event      `json:"events,omitempty"`
	Error          string              `json:"error,omitempty"`
	// Types are the committed generation's types (with digests) after a
	// round.
	Types []engine.TypeStatus `json:"types,omitempty"`
	// Detail says what a mark-bad or repair line did.
	Detail string `json:"detail,omitempty"`
	// Op is the operation of an op or cut line (replay).
	Op *OpTrace `json:"op,omitempty"`
	// Clock is the replay's virtual time at the line (Unix nanoseconds;
	// 0 when the run has no virtual clock).
	Clock int64 `json:"clock,omitempty"`
}

// SecondsOf converts d to the seconds of Line.ElapsedSeconds (microsecond
// precision).
func SecondsOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1e6 }

// Elapsed returns ElapsedSeconds as a duration, to the nanosecond.
func (l Line) Elapsed() time.Duration { return time.Duration(math.Round(l.ElapsedSeconds * 1e9)) }

// Is reports whether l is event ev of round (0: a line about no round).
func (l Line) Is(ev Event, round int) bool { return l.Event == ev && l.Round == round }

// Writer prints Lines for the host: Prefix, the line's JSON, a newline.
// It is not safe for concurrent use.
type Writer struct{ w io.Writer }

// NewWriter returns a Writer printing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Emit prints l on one line. A Line that does not encode is replaced by an
// error line saying why, so the host always gets a line.
func (w *Writer) Emit(l Line) error {
	b, err := json.Marshal(l)
	if err != nil {
		b, _ = json.Marshal(Line{Event: EventError, Round: l.Round, Error: fmt.Sprintf("encode the %s line: %v", l.Event, err)})
	}
	_, err = fmt.Fprintf(w.w, "%s%s\n", Prefix, b)
	return err
}
