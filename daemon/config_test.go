package daemon

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/hal"
	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/web"
)

// backupWork returns what the backup chip has done so far.
func backupWork(t *testing.T, d *Daemon) hal.Stats {
	t.Helper()
	st, ok := hal.StatsOf(d.raw[1])
	require.True(t, ok)
	return st
}

// TestIdenticalConfigWritesNothing: 2,000 PUTs of the configuration in
// effect program and erase nothing (each one appended a journal record
// before); a change then writes.
func TestIdenticalConfigWritesNothing(t *testing.T) {
	d := openSim(t, 1)
	b := d.Backend()
	same := b.Config()
	before := backupWork(t, d)
	for range 2000 {
		require.NoError(t, b.SetConfig(same))
	}
	after := backupWork(t, d)
	require.Zero(t, after.Programs-before.Programs, "programs for identical configurations")
	require.Zero(t, after.Erases-before.Erases, "erases for identical configurations")

	changed := same
	changed.Verify = !same.Verify
	require.NoError(t, b.SetConfig(changed))
	require.Positive(t, backupWork(t, d).Programs-after.Programs, "a change is written")
	require.Equal(t, changed, b.Config())
}

// TestWearBudget: alternating configurations (each a change) and "sync
// now" requests as fast as a client can send them: the API causes at
// most the budget's writes, refuses the rest with a BudgetError that says
// when to come back, and allows one more write per period of monotonic
// time.
func TestWearBudget(t *testing.T) {
	d := openSim(t, 1)
	mono := newHandClock(time.Time{})
	budget := Budget{Burst: 5, Every: time.Minute}
	d.budget = newTokenBucket(budget, mono.mono)
	b := d.Backend()
	configs := [2]web.Config{b.Config(), b.Config()}
	configs[1].Verify = !configs[0].Verify

	allowed, refused := 0, 0
	for i := range 200 {
		var err error
		if i%3 == 2 {
			_, err = b.SyncNow(context.Background())
		} else {
			next := configs[0]
			if b.Config().Verify == next.Verify {
				next = configs[1]
			}
			err = b.SetConfig(next) // a change every time
		}
		if err == nil {
			allowed++
			continue
		}
		refused++
		var be *BudgetError
		require.ErrorAs(t, err, &be)
		require.ErrorIs(t, err, ErrWearBudget)
		require.ErrorIs(t, err, web.ErrTooManyWrites)
		require.Positive(t, be.RetryAfter)
		require.LessOrEqual(t, be.RetryAfter, budget.Every)
		// Seconds, as Retry-After and the API's members ("1m0s" was Go's form).
		require.Regexp(t, `try again in \d+ s \(to spare the chips' erase cycles, the API may cause at most 5 flash writes at once and one every 60 s after that\)$`, err.Error())
	}
	require.Equal(t, budget.Burst, allowed)
	require.Equal(t, 200-budget.Burst, refused)

	mono.advance(budget.Every)
	flipped := b.Config()
	flipped.Verify = !flipped.Verify
	require.NoError(t, b.SetConfig(flipped), "a token came back after a period")
	flipped.Verify = !flipped.Verify
	require.Error(t, b.SetConfig(flipped), "only one")
}

// TestWearBudgetOverHTTP: through the API a spent budget is 429 Too Many
// Requests with Retry-After; an identical PUT is 200 and costs nothing.
func TestWearBudgetOverHTTP(t *testing.T) {
	d := openSim(t, 1)
	d.budget = newTokenBucket(Budget{Burst: 2, Every: time.Hour}, newHandClock(time.Time{}).mono)
	const token = "0123456789abcdef0123456789abcdef"
	srv, err := web.New(d.Backend(), web.Options{Token: token})
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	put := func(verify bool) *http.Response {
		body := fmt.Sprintf(`{"types":["power","fan","node","event-log","fault-log","asset"],"interval_seconds":30,"threshold_seconds":2,"verify":%v,"group_size":0,"retry_at_once":false}`, verify)
		req, err := http.NewRequest("PUT", hs.URL+"/api/config", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hs.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	current := d.engine.Config().Verify
	for range 50 {
		require.Equal(t, 200, put(current).StatusCode, "identical: free")
	}
	require.Equal(t, 200, put(!current).StatusCode)
	require.Equal(t, 200, put(current).StatusCode)
	resp := put(!current)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err)
	require.InDelta(t, 3600, secs, 1)
	require.Equal(t, 200, put(current).StatusCode, "identical still free when the budget is spent")
}

func TestTokenBucket(t *testing.T) {
	mono := newHandClock(time.Time{})
	tb := newTokenBucket(Budget{Burst: 2, Every: 10 * time.Second}, mono.mono)
	steps := []struct {
		advance time.Duration
		ok      bool
		retry   time.Duration // when refused
	}{
		{0, true, 0},
		{0, true, 0},
		{0, false, 10 * time.Second},
		{4 * time.Second, false, 6 * time.Second},
		{6 * time.Second, true, 0},
		{time.Hour, true, 0}, // refilled to the burst, no further
		{0, true, 0},
		{0, false, 10 * time.Second},
	}
	for i, s := range steps {
		mono.advance(s.advance)
		err := tb.take()
		if s.ok {
			require.NoError(t, err, "step %d", i)
			continue
		}
		var be *BudgetError
		require.ErrorAs(t, err, &be, "step %d", i)
		require.InDelta(t, s.retry.Seconds(), be.RetryAfter.Seconds(), 0.001, "step %d", i)
	}
	require.Equal(t, DefaultBudget, newTokenBucket(Budget{}, mono.mono).budget, "zero means the default")
}

func TestSetConfigRefusesInvalidForFree(t *testing.T) {
	d := openSim(t, 1)
	d.budget = newTokenBucket(Budget{Burst: 1, Every: time.Hour}, newHandClock(time.Time{}).mono)
	bad := d.engine.Config()
	bad.Threshold = 0
	require.ErrorIs(t, d.SetConfig(bad), engine.ErrConfig)
	good := d.engine.Config()
	good.Verify = !good.Verify
	require.NoError(t, d.SetConfig(good), "the refusal spent no token")
}

// TestWearBudgetRefusalsAreFree: requests the engine refuses without a
// write (a sync while an upgrade waits for its choice, a failback while
// chip A is active: 409) give their token back, so any number of them
// leaves the budget for the next real change.
func TestWearBudgetRefusalsAreFree(t *testing.T) {
	d := openSim(t, 1)
	ctx := context.Background()
	_, err := d.SyncNow(ctx)
	require.NoError(t, err)
	d.budget = newTokenBucket(Budget{Burst: 1, Every: time.Hour}, newHandClock(time.Time{}).mono)
	b := d.Backend()
	for range 5 {
		_, err := b.Failback(ctx)
		require.ErrorIs(t, err, web.ErrConflict, "chip A is active")
	}
	require.NoError(t, d.SimulateUpgrade()) // the image update itself, outside the API
	for range 5 {
		_, err := b.SyncNow(ctx)
		require.ErrorIs(t, err, web.ErrConflict, "an upgrade waits for its choice")
	}
	require.NoError(t, b.Upgrade(ctx, web.KeepUpgraded), "the refusals spent no token")
	_, err = b.SyncNow(ctx)
	require.ErrorIs(t, err, web.ErrTooManyWrites, "the choice spent the only one")
}
