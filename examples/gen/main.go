// Gen writes generated PC operation logs — the envelopes clients upload —
// as NDJSON to stdout, for trying the CLI on data of realistic size:
//
//	go run ./examples/gen -records 1000000 | zstd > logs.ndjson.zst
//	go run ./cmd/loglake ingest --lake /tmp/lake logs.ndjson.zst
//
// The data is deterministic for a given -seed.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/loglake/loglake/internal/gen"
)

func main() {
	records := flag.Int("records", 100_000, "number of log records (envelopes hold 1 to 100 each)")
	tenants := flag.Int("tenants", 8, "number of tenants (sizes are skewed: the first is the largest)")
	days := flag.Int("days", 3, "number of days, ending yesterday (UTC)")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if *records < 0 || *tenants < 1 || *days < 1 {
		fmt.Fprintln(os.Stderr, "gen: -records must be >= 0, -tenants and -days >= 1")
		os.Exit(2)
	}
	g := gen.New(gen.Config{Seed: *seed, Tenants: *tenants, Days: *days, End: time.Now().UTC().AddDate(0, 0, -1)})
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	var buf []byte
	for g.Records < *records {
		buf, _ = g.AppendEnvelope(buf[:0])
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gen: %d records in %d envelopes, %d mention %s\n", g.Records, g.Envelopes, g.Secrets, gen.Secret)
}
