package shellquote_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cmcsync/cmcsync/internal/shellquote"
	"github.com/cmcsync/cmcsync/internal/shellquote/shelltest"
)

// nasty are words a shell would split, expand or run if printed as they
// are: each must come back from sh unchanged.
var nasty = []string{
	"",
	"a b",
	"it's",
	"''",
	`"`,
	`sim:part=mx66l1g45g,size=8M,file="/tmp/run,1/p q.img"`,
	`sim:part=w25q256jv,file="/srv/a\"b\\c.img"`,
	"(on (at 52) cut) | none",
	"$(reboot)",
	"`reboot`",
	"$HOME ${x} $1",
	"a;b&c|d>e<f",
	"*?[a]",
	"~root",
	"#comment",
	"tab\there",
	"new\nline",
	"back\\slash",
	"!bang",
	"{a,b}",
	"é ü",
}

// TestQuoteReadsBack: every word, nasty or plain, joined into a command
// line, is read back by sh as that word (checked failing with Quote
// returning s unquoted, and with ' left unescaped).
func TestQuoteReadsBack(t *testing.T) {
	words := append([]string{"cmcsync", "reseed", "--primary", "mtd:/dev/mtd5", "--force=primary,backup"}, nasty...)
	require.Equal(t, words, shelltest.Words(t, shellquote.Join(words...)))
	for _, w := range words {
		require.Equal(t, []string{w}, shelltest.Words(t, shellquote.Quote(w)), "%q", w)
	}
}

// TestQuotePlainAsIs: words no shell treats specially are printed as they
// are, so the usual hint reads as a user would type it.
func TestQuotePlainAsIs(t *testing.T) {
	for in, want := range map[string]string{
		"mtd:/dev/mtd5":                "mtd:/dev/mtd5",
		"sim:part=mx66l1g45g,size=32M": "sim:part=mx66l1g45g,size=32M",
		"--force=primary,backup":       "--force=primary,backup",
		"":                             "''",
		"a b":                          "'a b'",
		"it's":                         `'it'\''s'`,
		"$(reboot)":                    "'$(reboot)'",
		"~root":                        "'~root'",
	} {
		require.Equal(t, want, shellquote.Quote(in), in)
	}
	require.Equal(t, "cmcsync selftest --flash 'sim:part=w25q256jv,file=\"/a b\"'", shellquote.Join("cmcsync", "selftest", "--flash", `sim:part=w25q256jv,file="/a b"`))
}
