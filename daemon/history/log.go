package history

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/cmcsync/cmcsync/internal/atomicfile"
)

// Segment file names in the log's folder.
const (
	CurrentFile  = "history.log"
	PreviousFile = "history.1.log"
)

// DefaultMaxBytes is the segment size Options.MaxBytes 0 means: the log
// keeps between 1 MiB and 2 MiB of records (for the daemon, whose rounds
// take about 700 bytes each with their events: half a day to a day of
// rounds every 30 s).
const DefaultMaxBytes = 1 << 20

// ErrTooLarge is returned by Append for a payload longer than MaxRecord or
// than a segment holds.
var ErrTooLarge = errors.New("history record too large")

// Options configure a Log.
type Options struct {
	// MaxBytes is the size a segment grows to before it is rotated
	// (0: DefaultMaxBytes).
	MaxBytes int64
}

// Loaded is what Open found in the folder.
type Loaded struct {
	// Records are the payloads of the intact records of both segments,
	// oldest first.
	Records [][]byte
	// Damage says what Open ignored: a torn tail (a record cut by a
	// power cut), damage, a file that is not a segment. Empty normally.
	Damage []string
}

// Log is an open history log. Its methods are safe for concurrent use.
type Log struct {
	dir      string
	maxBytes int64

	mu   sync.Mutex
	file *os.File // the current segment, positioned at its end
	size int64    // bytes in the current segment
}

// Open opens the log in dir (which must exist), loading what both segments
// hold. A torn or damaged tail of the current segment is cut off (the file
// truncated back to its last intact record, and fsynced) so that appends
// continue after intact records; a current segment that is no segment at
// all is moved aside to CurrentFile+".damaged" and a new one begun. The
// previous segment is only read.
func Open(dir string, o Options) (*Log, Loaded, error) {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxBytes < int64(len(Magic))+headerSize+1 {
		return nil, Loaded{}, fmt.Errorf("history: a segment of %d bytes holds no record", o.MaxBytes)
	}
	l := &Log{dir: dir, maxBytes: o.MaxBytes}
	var loaded Loaded
	prev, _, err := l.readSegment(PreviousFile, &loaded)
	if err != nil {
		return nil, Loaded{}, err
	}
	loaded.Records = prev
	cur, good, err := l.readSegment(CurrentFile, &loaded)
	if err != nil {
		return nil, Loaded{}, err
	}
	loaded.Records = append(loaded.Records, cur...)
	if err := l.openCurrent(good); err != nil {
		return nil, Loaded{}, err
	}
	return l, loaded, nil
}

// readSegment decodes one segment file. good is how much of the file to
// keep: its intact prefix, or -1 when the file is missing or no segment
// (moved aside, for the current segment).
func (l *Log) readSegment(name string, loaded *Loaded) (payloads [][]byte, good int64, err error) {
	path := filepath.Join(l.dir, name)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, -1, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("history: %w", err)
	}
	payloads, good, tail, err := Decode(data)
	if err != nil {
		loaded.Damage = append(loaded.Damage, fmt.Sprintf("%s: %v; ignored", name, err))
		if name == CurrentFile {
			if err := os.Rename(path, path+".damaged"); err != nil {
				return nil, 0, fmt.Errorf("history: move aside %s: %w", name, err)
			}
		}
		return nil, -1, nil
	}
	if tail != "" {
		loaded.Damage = append(loaded.Damage, fmt.Sprintf("%s: %s (a write cut by a crash or power cut, or damage): %d bytes ignored", name, tail, int64(len(data))-good))
	}
	return payloads, good, nil
}

// openCurrent opens the current segment for appending, cut back to good
// bytes, or begins a new one when good is -1.
func (l *Log) openCurrent(good int64) error {
	path := filepath.Join(l.dir, CurrentFile)
	if good < 0 {
		return l.begin()
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if fi, err := f.Stat(); err == nil && fi.Size() != good {
		if err := truncateSync(f, good); err != nil {
			f.Close()
			return fmt.Errorf("history: cut the torn tail of %s: %w", CurrentFile, err)
		}
	}
	if _, err := f.Seek(good, 0); err != nil {
		f.Close()
		return fmt.Errorf("history: %w", err)
	}
	l.file, l.size = f, good
	return nil
}

// begin starts a new, empty current segment (replacing any file there):
// written, fsynced and renamed into place (internal/atomicfile), then
// opened for appending.
func (l *Log) begin() error {
	path := filepath.Join(l.dir, CurrentFile)
	if err := atomicfile.WriteFile(path, []byte(Magic), 0o600); err != nil {
		return fmt.Errorf("history: begin %s: %w", CurrentFile, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err == nil {
		_, err = f.Seek(0, io.SeekEnd)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		return fmt.Errorf("history: %w", err)
	}
	l.file, l.size = f, int64(len(Magic))
	return nil
}

// Append writes one record with payload (write(2), no fsync: see Sync).
// rotated reports that the record began a new segment, dropping the
// oldest one: a caller that keeps totals in its records writes them again
// then. A write that fails is undone (the segment is cut back to its
// last whole record), so the log stays readable.
func (l *Log) Append(payload []byte) (rotated bool, err error) {
	rec := encodeRecord(payload)
	if len(payload) == 0 || len(payload) > MaxRecord || int64(len(Magic)+len(rec)) > l.maxBytes {
		return false, fmt.Errorf("%w: %d bytes (at most %d, and a segment is %d)", ErrTooLarge, len(payload), MaxRecord, l.maxBytes)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return false, errors.New("history: log closed")
	}
	if l.size+int64(len(rec)) > l.maxBytes {
		if err := l.rotate(); err != nil {
			return false, err
		}
		rotated = true
	}
	if _, err := l.file.Write(rec); err != nil {
		if terr := truncateSync(l.file, l.size); terr == nil {
			l.file.Seek(l.size, 0)
		}
		return rotated, fmt.Errorf("history: append: %w", err)
	}
	l.size += int64(len(rec))
	return rotated, nil
}

// rotate makes the current segment the previous one and begins a new one.
func (l *Log) rotate() error {
	if err := l.file.Sync(); err != nil {
		return fmt.Errorf("history: rotate: %w", err)
	}
	l.file.Close()
	l.file = nil
	if err := os.Rename(filepath.Join(l.dir, CurrentFile), filepath.Join(l.dir, PreviousFile)); err != nil {
		return fmt.Errorf("history: rotate: %w", err)
	}
	return l.begin() // its folder fsync makes the rename durable too
}

// Sync makes every record appended so far survive a power cut (fsync).
func (l *Log) Sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return errors.New("history: log closed")
	}
	if err := l.file.Sync(); err != nil {
		return fmt.Errorf("history: sync: %w", err)
	}
	return nil
}

// Close syncs and closes the log.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return nil
	}
	err := l.file.Sync()
	if cerr := l.file.Close(); err == nil {
		err = cerr
	}
	l.file = nil
	if err != nil {
		return fmt.Errorf("history: close: %w", err)
	}
	return nil
}

// truncateSync cuts f to size bytes and fsyncs it.
func truncateSync(f *os.File, size int64) error {
	if err := f.Truncate(size); err != nil {
		return err
	}
	return f.Sync()
}
