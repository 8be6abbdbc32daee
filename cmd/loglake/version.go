package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/loglake/loglake"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; by
// default it comes from the module's build info.
var version = ""

func init() {
	register(&command{
		name:    "version",
		usage:   "",
		summary: "print loglake's version and the lake format it writes",
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			return func(ctx context.Context, e *env, args []string) error {
				v := version
				if v == "" {
					v = "(devel)"
					if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
						v = bi.Main.Version
					}
				}
				fmt.Fprintf(e.stdout, "loglake %s (lake format %d, %s, %s/%s)\n", v, loglake.FormatVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
				return nil
			}
		},
	})
}
