// The configuration written on its own: staged until the next commit, or
// committed at once (docs/FORMAT.md, Record kinds: config-staged,
// config-commit).

package store

import "fmt"

// StageConfig stores c as the configuration in effect until the next
// commit (which records it with its generation). A purge-then-reinit drops
// it in favour of the last committed configuration.
func (s *Store) StageConfig(c Config) error {
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	if s.pending != nil {
		return ErrPending
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("stage config: %w", err)
	}
	var e enc
	e.config(c)
	if err := s.appendRecord(kindStaged, e.buf); err != nil {
		return fmt.Errorf("stage config: %w", err)
	}
	cc := c.clone()
	s.staged = &cc
	return nil
}

// CommitConfig makes c the committed configuration at once, without a
// data round: one config-commit record (S.config = c, no staged
// configuration), which a later purge does not revert — after a purge the
// configuration is the last one committed, by a round or by CommitConfig.
// If c is the committed configuration and none is staged, it writes
// nothing and returns false. It fails with ErrPending while a round is in
// progress or interrupted. A store of an older format version is upgraded
// first (the record is new in format version 2).
func (s *Store) CommitConfig(c Config) (bool, error) {
	if s.opts.ReadOnly {
		return false, ErrReadOnly
	}
	if s.pending != nil || s.round != nil {
		return false, ErrPending
	}
	if err := c.Validate(); err != nil {
		return false, fmt.Errorf("commit config: %w", err)
	}
	if s.staged == nil && c.Equal(s.committed.Config) {
		return false, nil
	}
	var e enc
	e.config(c)
	if err := s.upgrade(); err != nil {
		return false, fmt.Errorf("commit config: %w", err)
	}
	if err := s.appendRecord(kindConfigCommit, e.buf); err != nil {
		return false, fmt.Errorf("commit config: %w", err)
	}
	s.committed.Config = c.clone()
	s.staged = nil
	return true, nil
}
