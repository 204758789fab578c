package daemon_test

import (
	"context"
	"fmt"

	"github.com/cmcsync/cmcsync/daemon"
	"github.com/cmcsync/cmcsync/internal/flashspec"
)

// A daemon on two simulated chips kept in memory: new at every start, so
// Open formats them and fills the primary with the simulated CMC's
// content; one round then copies it to the backup.
func Example() {
	primary, _ := flashspec.Parse("sim:part=mx66l1g45g,size=8M,name=flash0")
	backup, _ := flashspec.Parse("sim:part=mx66l1g45g,size=8M,name=flash1")
	d, err := daemon.Open(context.Background(), daemon.Options{Primary: primary, Backup: backup, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	fmt.Println("formatted:", d.Formatted(), "simulated:", d.Simulated())

	rep, err := d.SyncNow(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	st := d.Backend().Status()
	fmt.Println(rep.Outcome, "generation", st.Generation, "image", st.ImageVersion)
	for _, ts := range st.Types {
		fmt.Println(ts.Name, ts.State)
	}
	// Output:
	// formatted: true simulated: true
	// committed generation 1 image 1.0.0
	// power synced
	// fan synced
	// node synced
	// event-log synced
	// fault-log synced
	// asset synced
}
