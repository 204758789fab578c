package mutate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// baselineRecord is the baseline file: the stages' CPU on the tree whose
// key it names.
type baselineRecord struct {
	Key        string             `json:"key"`
	CPUSeconds map[string]float64 `json:"cpu_seconds"` // by stage name
}

// TreeKey is the hex SHA-256 of every regular file under root (slash
// path and content), except those under the directories skip names
// (relative to root), and of extra (the stages' arguments, the Go
// version, the environment added): whatever a baseline's outcome and CPU
// time depend on, and more.
func TreeKey(root string, skip []string, extra ...string) (string, error) {
	h := sha256.New()
	for _, e := range extra {
		fmt.Fprintf(h, "extra %q\n", e)
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if slices.Contains(skip, rel) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "file %q %d\n", rel, fi.Size())
		_, err = io.Copy(h, f)
		return err
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// BaselineCached is Baseline, remembered: when the file at path records
// the baseline of the tree with this key (TreeKey), the stages passed on
// exactly this tree, so their CPU is taken from it and nothing runs;
// otherwise Baseline runs and its CPU is written to path. It reports
// whether the record answered.
func (r *Runner) BaselineCached(ctx context.Context, path, key string) (bool, error) {
	var rec baselineRecord
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &rec); err != nil {
			return false, fmt.Errorf("%s: %w (delete it to measure the baseline again)", path, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return false, err
	}
	if rec.Key == key {
		campaign, ok1 := rec.CPUSeconds[r.Campaign.Name]
		unit, ok2 := rec.CPUSeconds[r.Unit.Name]
		if ok1 && ok2 {
			r.setBaseline(&r.Campaign, seconds(campaign))
			r.setBaseline(&r.Unit, seconds(unit))
			return true, nil
		}
	}
	if err := r.Baseline(ctx); err != nil {
		return false, err
	}
	rec = baselineRecord{Key: key, CPUSeconds: map[string]float64{
		r.Campaign.Name: r.Campaign.BaselineCPU.Seconds(),
		r.Unit.Name:     r.Unit.BaselineCPU.Seconds(),
	}}
	b, err = json.Marshal(rec)
	if err != nil {
		return false, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return false, err
	}
	return false, os.Rename(tmp, path)
}

// KeyArgs returns what of the stages enters a baseline's key: their names
// and arguments as the baseline runs them (go test's -timeout left out:
// the baseline runs without it).
func (r *Runner) KeyArgs() []string {
	var out []string
	for _, st := range []Stage{r.Campaign, r.Unit} {
		out = append(out, st.Name+": "+strings.Join(withoutTimeout(st.Args), " "))
	}
	return out
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// setBaseline records st's baseline CPU and, when CPUFactor is set, its
// CPU limit: CPUFactor × cpu + CPUMargin.
func (r *Runner) setBaseline(st *Stage, cpu time.Duration) {
	st.BaselineCPU = cpu
	if r.CPUFactor > 0 {
		st.CPULimit = time.Duration(r.CPUFactor*float64(cpu)) + r.CPUMargin
	}
}
