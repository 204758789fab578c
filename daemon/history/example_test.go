package history_test

import (
	"fmt"
	"os"

	"github.com/cmcsync/cmcsync/daemon/history"
)

// A log survives its process: what was appended loads at the next Open.
func Example() {
	dir, _ := os.MkdirTemp("", "history")
	defer os.RemoveAll(dir)

	log, _, _ := history.Open(dir, history.Options{})
	log.Append([]byte(`{"event":"recovery"}`))
	log.Append([]byte(`{"event":"purge"}`))
	log.Sync()
	log.Close()

	log, loaded, _ := history.Open(dir, history.Options{})
	defer log.Close()
	for _, r := range loaded.Records {
		fmt.Println(string(r))
	}
	// Output:
	// {"event":"recovery"}
	// {"event":"purge"}
}
