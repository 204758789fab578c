package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
)

func init() {
	register(command{name: "version", summary: "print the module version and the VCS revision it was built from", run: runVersion})
}

// versionInfo is version's --json output.
type versionInfo struct {
	Module    string `json:"module"`
	Version   string `json:"version"`
	Revision  string `json:"revision,omitempty"`
	Time      string `json:"time,omitempty"`
	Modified  bool   `json:"modified"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
}

// buildInfo reads the version from the build information the Go linker
// embeds (debug.ReadBuildInfo).
func buildInfo(read func() (*debug.BuildInfo, bool)) versionInfo {
	bi, ok := read()
	if !ok {
		return versionInfo{Version: "unknown"}
	}
	v := versionInfo{Module: bi.Main.Path, Version: bi.Main.Version, GoVersion: bi.GoVersion}
	if v.Version == "" {
		v.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		case "GOOS":
			v.OS = s.Value
		case "GOARCH":
			v.Arch = s.Value
		}
	}
	return v
}

func (v versionInfo) String() string {
	s := fmt.Sprintf("cmcsync %s", v.Version)
	if v.Revision != "" {
		s += " revision " + v.Revision
		if v.Modified {
			s += " (modified)"
		}
		if v.Time != "" {
			s += " of " + v.Time
		}
	} else {
		s += " (no VCS revision in the build information: built with -buildvcs=false or outside a git checkout)"
	}
	return s + fmt.Sprintf(", %s %s/%s", v.GoVersion, v.OS, v.Arch)
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("version", stderr,
		"usage: cmcsync version [--json]")
	asJSON := fs.Bool("json", false, "print the version as JSON")
	if done, err := parseFlags(fs, args); done {
		return err
	}
	v := buildInfo(debug.ReadBuildInfo)
	if *asJSON {
		return writeJSON(stdout, v)
	}
	fmt.Fprintln(stdout, v)
	return nil
}
