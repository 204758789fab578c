package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/term"

	"github.com/cmcsync/cmcsync/web"
)

// printToken prints where the page is and how to get its API token. The
// token itself, and the page's URL carrying it in its fragment, are
// printed only when the token was just created and w is a terminal (tty):
// someone is looking. Otherwise (a later start, or the output going to a
// log: under systemd the journal, which more users read than the 0600
// token file) only the token file's name is printed.
func printToken(w io.Writer, dir, url, token string, created, tty bool) {
	file := filepath.Join(dir, web.TokenFile)
	switch {
	case created && tty:
		fmt.Fprintf(w, "  API token (shown once; kept in %s): %s\n", file, token)
		fmt.Fprintf(w, "open %s#token=%s\n", url, token)
	case created:
		fmt.Fprintf(w, "  API token: created in %s (not printed: the output is not a terminal; paste it into the page once)\n", file)
		fmt.Fprintf(w, "open %s\n", url)
	default:
		fmt.Fprintf(w, "  API token: in %s (paste it into the page once)\n", file)
		fmt.Fprintf(w, "open %s\n", url)
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
