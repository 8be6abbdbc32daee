// Command loglake is the command-line face of the loglake library: ingest
// NDJSON into a lake, compact it to Parquet, query it, and look around.
//
// Each subcommand lives in a file of its own and registers itself with
// [register]; `loglake help CMD` or `loglake CMD --help` prints its usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand.
type command struct {
	name    string
	usage   string // arguments after the name, e.g. "--lake URL [--tenant T]"
	summary string // one line
	help    string // paragraphs after the usage line; may be empty
	// flags declares the command's flags on fs and returns the function that
	// runs the command once they are parsed.
	flags func(fs *flag.FlagSet) func(ctx context.Context, env *env, args []string) error
}

// env is what a command may touch besides its flags.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// usageError is an error in how the command was called: it prints the usage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run runs the CLI with args (without the program name) and returns the exit
// code: 0 success, 1 failure, 2 usage error.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		printUsage(e.stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "--help", "-help":
		printUsage(e.stdout)
		return 0
	case "help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				newFlagSet(c, e.stdout).Usage()
				return 0
			}
		}
		printUsage(e.stdout)
		return 0
	case "-v", "--version", "-version":
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(e.stderr, "loglake: unknown command %q\n\n", name)
		printUsage(e.stderr)
		return 2
	}
	fs := newFlagSet(c, e.stderr)
	runFn := c.flags(fs)
	if wantsHelp(args[1:]) {
		fs.SetOutput(e.stdout)
		fs.Usage()
		return 0
	}
	if err := fs.Parse(args[1:]); err != nil {
		return 2 // the flag package printed the error and the usage
	}
	if err := runFn(ctx, e, fs.Args()); err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(e.stderr, "loglake %s: %s\n", c.name, ue.msg)
			fs.Usage()
			return 2
		}
		fmt.Fprintf(e.stderr, "loglake %s: %v\n", c.name, err)
		return 1
	}
	return 0
}

// wantsHelp reports whether args ask for help before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

func newFlagSet(c *command, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("loglake "+c.name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: loglake %s %s\n\n%s\n", c.name, c.usage, c.summary)
		if c.help != "" {
			fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
		}
		var any bool
		fs.VisitAll(func(*flag.Flag) { any = true })
		if any {
			fmt.Fprintf(w, "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	if c.flags == nil {
		c.flags = func(*flag.FlagSet) func(context.Context, *env, []string) error { return nil }
	}
	return fs
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "loglake — partitioned log lakes on object storage\n\nusage: loglake <command> [flags] [args]\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'loglake <command> --help' for a command's flags.\nLakes are gocloud.dev blob URLs: file:///path (or a plain path), mem://, s3://bucket?region=…\n")
}
