package mutate

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestJudgeNeverOnWallTime(t *testing.T) {
	const limit = 10 * time.Second
	for _, tc := range []struct {
		name  string
		sr    stageResult
		limit time.Duration
		want  stageVerdict
	}{
		{"passes under the limit", stageResult{pass: true, cpu: 2 * time.Second}, limit, stagePassed},
		{"quick failure", stageResult{cpu: time.Second}, limit, stageFailed},
		{"does not compile", stageResult{buildFailed: true, cpu: time.Second}, limit, stageNotViable},
		{"wall limit under the CPU limit: load", stageResult{wallStopped: true, cpu: 3 * time.Second}, limit, stageInconclusive},
		{"wall limit, no CPU limit known", stageResult{wallStopped: true, cpu: time.Hour}, 0, stageInconclusive},
		{"CPU limit stopped it", stageResult{cpu: limit + time.Millisecond}, limit, stageTimedOut},
		{"wall limit past the CPU limit", stageResult{wallStopped: true, cpu: 2 * limit}, limit, stageTimedOut},
		{"ended by itself just past the CPU limit", stageResult{pass: true, cpu: limit + time.Millisecond}, limit, stageTimedOut},
		{"at the CPU limit, not past it", stageResult{pass: true, cpu: limit}, limit, stagePassed},
	} {
		require.Equal(t, tc.want, judge(tc.sr, tc.limit), tc.name)
	}
}

func TestWithoutTimeout(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"-timeout", "4m", "-run", "X", "./p"}, []string{"-run", "X", "./p"}},
		{[]string{"-timeout=4m", "./p"}, []string{"./p"}},
		{[]string{"--timeout", "4m", "./p"}, []string{"./p"}},
		{[]string{"-short", "./p", "./q"}, []string{"-short", "./p", "./q"}},
	} {
		require.Equal(t, tc.want, withoutTimeout(tc.in), "%q", tc.in)
	}
}

func TestKeyArgsLeaveTheWallLimitOut(t *testing.T) {
	r := func(timeout, run string) *Runner {
		return &Runner{
			Campaign: Stage{Name: "campaign", Args: []string{"-timeout", timeout, "-run", run, "./c"}},
			Unit:     Stage{Name: "unit", Args: []string{"-timeout=" + timeout, "./u"}},
		}
	}
	require.Equal(t, r("2m30s", "X").KeyArgs(), r("19m30s", "X").KeyArgs(), "the baseline runs without -timeout")
	require.NotEqual(t, r("2m30s", "X").KeyArgs(), r("2m30s", "Y").KeyArgs())
	require.Equal(t, []string{"campaign: -run X ./c", "unit: ./u"}, r("1m", "X").KeyArgs())
}
