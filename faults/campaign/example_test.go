package campaign_test

import (
	"fmt"

	"github.com/cmcsync/cmcsync/faults/campaign"
)

func ExampleParseCase() {
	c, err := campaign.ParseCase("standard seed=1 mutant=no-purge | (seed 1) (on (at 27) (torn allbutone)) | none")
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Scenario, c.Mutant, len(c.Round.Rules))
	fmt.Println(c)
	// Output:
	// standard no-purge 1
	// standard seed=1 mutant=no-purge | (seed 1) (on (at 27) (torn allbutone)) | none
}
