package daemon

import "github.com/cmcsync/cmcsync/sync/engine"

// SetConfig is a configuration change from the API. A configuration equal
// to the one in effect writes nothing to flash and returns nil. An
// invalid one is refused (an error wrapping engine.ErrConfig) and costs
// nothing. A change spends one token of the wear budget (a *BudgetError
// when it is spent, and nothing is written) and is committed
// (commitConfig). Changes are serialized, so the comparison sees the
// configuration the previous change left.
func (d *Daemon) SetConfig(c engine.Config) error {
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
