package daemon

import (
	"fmt"

	"github.com/cmcsync/cmcsync/sync/engine"
	"github.com/cmcsync/cmcsync/sync/info"
	"github.com/cmcsync/cmcsync/web"
)

// SetConfig is a configuration change from the API. A configuration equal
// to the one in effect writes nothing to flash and returns nil. An
// invalid one is refused and costs nothing: one outside the API's limits
// (web.Config.Validate, the one check of every path: the API, the
// command line, the configuration file) is an error wrapping
// engine.ErrConfig and a *web.FieldError naming the field; one the
// engine refuses wraps engine.ErrConfig. A change spends one token of the
// wear budget (a *BudgetError when it is spent, and nothing is written)
// and is committed (commitConfig). Changes are serialized, so the
// comparison sees the configuration the previous change left.
func (d *Daemon) SetConfig(c engine.Config) error {
	if err := webConfig(c).Validate(knownTypes()); err != nil {
		return fmt.Errorf("%w: %w", engine.ErrConfig, err)
	}
	if err := c.Validate(); err != nil {
		return err
	}
	d.configMu.Lock()
	defer d.configMu.Unlock()
	if d.engine.Config().Equal(c) {
		return nil
	}
	if err := d.budget.take(); err != nil {
		return err
	}
	return d.commitConfig(c)
}

// commitConfig commits c durably on the backup chip (engine.SetConfig:
// one config-commit record) before the API answers: it takes effect at
// once, and an interrupted round's reinit returns to it, never to the
// configuration before it.
func (d *Daemon) commitConfig(c engine.Config) error {
	return d.engine.SetConfig(c)
}

// webConfig is c as the API shows it.
func webConfig(c engine.Config) web.Config {
	out := web.Config{Types: []string{}, Interval: web.Duration(c.Interval), Threshold: web.Duration(c.Threshold), Verify: c.Verify, GroupSize: c.GroupSize, RetryAtOnce: c.RetryAtOnce}
	for _, t := range c.Types {
		out.Types = append(out.Types, t.String())
	}
	return out
}

// knownTypes are the names of every information type.
func knownTypes() []string {
	var out []string
	for _, t := range info.All() {
		out = append(out, t.String())
	}
	return out
}
