// Command shequ is the smart-community brain: one binary with subcommands
// (serve, demo, migrate, user, org, backup, audit, version).
package main

import (
	"os"

	_ "time/tzdata" // Asia/Shanghai everywhere, even without system zoneinfo

	"shequ/internal/cli"
)

func main() {
	os.Exit(cli.Main(&cli.Env{Args: os.Args, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}))
}
