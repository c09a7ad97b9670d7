package main

import (
	"context"
	"fmt"
	"io"

	"github.com/mentorship/mentorship/config"
)

// programCmd prints the program's settings as a program file: the guide's
// defaults, or what MENTORSHIP_PROGRAM_FILE (or --program-file) makes of
// them, so an operator can start a file from the printed form and check it.
func programCmd(_ context.Context, args []string, env func(string) string, _ io.Reader, stdout, stderr io.Writer) error {
	cfg, err := config.Load("mentorship program", args, env, stderr)
	if err != nil {
		return err
	}
	p := cfg.Program
	if cfg.ProgramFile == "" {
		fmt.Fprintln(stdout, "# The program guide's settings. Copy what you change into a file and")
		fmt.Fprintln(stdout, "# point MENTORSHIP_PROGRAM_FILE (or --program-file) at it.")
	} else {
		fmt.Fprintf(stdout, "# The settings %s makes of the program guide's.\n", cfg.ProgramFile)
	}
	return config.WriteProgram(stdout, p)
}
