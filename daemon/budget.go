package daemon

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cmcsync/cmcsync/web"
)

// Budget bounds the flash writes the API can cause: a token bucket of
// Burst writes, refilled by one every Every. Each write the API causes
// costs one token: a configuration change committed to the backup chip,
// and each round an API request runs (sync now, an upgrade choice, a
// simulated upgrade), whose commit record is one journal write however
// little changed. A request that changes nothing costs nothing: an
// identical configuration, and a request the engine refuses without a
// write (a sync while an upgrade waits for its choice, a refused
// failback: 409) gets its token back. Beyond the budget the API answers
// 429 Too Many Requests with Retry-After.
type Budget struct {
	Burst int
	Every time.Duration
}

// DefaultBudget allows a burst of 30 API writes, then one a minute: at
// most 30 + 60 journal writes an hour through the API, whatever clients
// send. (A journal record is a few hundred bytes; 90 an hour erase a few
// 4 KiB blocks of the backup's journal an hour at most, far inside a NOR
// chip's 100,000 cycles over its years of service.)
var DefaultBudget = Budget{Burst: 30, Every: time.Minute}

// ErrWearBudget is wrapped by the error of a request refused because the
// API's flash-write budget is spent (see Budget).
var ErrWearBudget = errors.New("the API's flash-write budget is spent")

// BudgetError is a request refused by the wear budget; it says when a
// write will be allowed again.
type BudgetError struct {
	RetryAfter time.Duration
	Budget     Budget
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("%v: try again in %d s (to spare the chips' erase cycles, the API may cause at most %d flash writes at once and one every %g s after that)",
		ErrWearBudget, e.RetryAfterSeconds(), e.Budget.Burst, e.Budget.Every.Seconds())
}

// Unwrap returns ErrWearBudget and web.ErrTooManyWrites (the API answers
// 429 Too Many Requests).
func (e *BudgetError) Unwrap() []error { return []error{ErrWearBudget, web.ErrTooManyWrites} }

// RetryAfterSeconds is the Retry-After the API sends: whole seconds,
// rounded up.
func (e *BudgetError) RetryAfterSeconds() int {
	return int((e.RetryAfter + time.Second - 1) / time.Second)
}

// tokenBucket is the wear budget's state. It measures time on the
// monotonic clock (mono), so wall-clock steps neither refill nor drain
// it.
type tokenBucket struct {
	budget Budget
	mono   func() time.Duration

	mu     sync.Mutex
	tokens float64
	last   time.Duration // mono at the last refill
}

// newTokenBucket returns a full bucket of b (zero: DefaultBudget).
func newTokenBucket(b Budget, mono func() time.Duration) *tokenBucket {
	if b.Burst <= 0 || b.Every <= 0 {
		b = DefaultBudget
	}
	return &tokenBucket{budget: b, mono: mono, tokens: float64(b.Burst), last: mono()}
}

// take spends one token, or returns a *BudgetError saying how long until
// one is there.
func (t *tokenBucket) take() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.mono()
	t.tokens = min(float64(t.budget.Burst), t.tokens+float64(now-t.last)/float64(t.budget.Every))
	t.last = now
	if t.tokens >= 1 {
		t.tokens--
		return nil
	}
	wait := time.Duration((1 - t.tokens) * float64(t.budget.Every))
	return &BudgetError{RetryAfter: max(wait, time.Second), Budget: t.budget}
}

// refund returns the token a request took when the request wrote nothing
// (the engine refused it): refusals must not spend the budget that the
// next real change needs. The bucket never holds more than its burst.
func (t *tokenBucket) refund() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tokens = min(float64(t.budget.Burst), t.tokens+1)
}
