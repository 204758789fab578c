package faults

import "fmt"

// Kind is the kind of a flash operation.
type Kind uint8

// Operation kinds.
const (
	Read Kind = iota + 1
	Program
	Erase
)

// String returns "read", "program" or "erase".
func (k Kind) String() string {
	switch k {
	case Read:
		return "read"
	case Program:
		return "program"
	case Erase:
		return "erase"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Role says which device of the pair an operation went to. Roles name chips
// as the harness wired them (chip A is the primary at the start), not the
// engine's current logical roles.
type Role uint8

// Device roles.
const (
	Primary Role = iota + 1
	Backup
)

// String returns "primary" or "backup".
func (r Role) String() string {
	switch r {
	case Primary:
		return "primary"
	case Backup:
		return "backup"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// ParseRole parses "primary" or "backup".
func ParseRole(s string) (Role, error) {
	switch s {
	case "primary":
		return Primary, nil
	case "backup":
		return Backup, nil
	}
	return 0, fmt.Errorf("unknown device role %q (want primary or backup)", s)
}

// Op is one flash operation as the injector sees it, before it runs.
type Op struct {
	Index    int64 // position among all operations on all wrapped devices, from 0
	DevIndex int64 // position among the operations on this device, from 0
	Role     Role
	Kind     Kind
	Off, Len int64
	// Data is what a program writes (nil for reads and erases). It belongs
	// to the caller of WriteAt: a Trace that keeps it must copy it.
	Data []byte
}

// String formats the operation as "#41 backup program [0x3000+0x100]".
func (o Op) String() string {
	return fmt.Sprintf("#%d %v %v [%#x+%#x]", o.Index, o.Role, o.Kind, o.Off, o.Len)
}

// withoutData returns the operation without its program data (which
// belongs to the caller of WriteAt).
func (o Op) withoutData() Op {
	o.Data = nil
	return o
}
