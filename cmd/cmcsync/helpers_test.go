package main

import (
	"bytes"
	"context"
)

// runCLI runs the command line args as main does and returns what it
// wrote to standard output and standard error.
func runCLI(args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// runCmd is runCLI of the subcommand cmd with args.
func runCmd(cmd string, args ...string) (stdout, stderr string, err error) {
	return runCLI(append([]string{cmd}, args...)...)
}
