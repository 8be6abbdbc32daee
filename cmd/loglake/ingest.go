package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/ingest"
)

func init() {
	register(&command{
		name:    "ingest",
		usage:   "--lake URL [--tz ZONE] [--batch-mib N] [--carry FIELD]... [--json] [FILE|-]...",
		summary: "split NDJSON envelopes into records and write them to tenant/day partitions",
		help: `ingest reads NDJSON — envelopes {"tenant_id":…,"log":[…]} or bare records, one
per line — from the files named (plain, .gz or .zst; "-" or none: stdin, whose
compression is detected), splits envelopes into records, and writes them to
raw/tenant_id=<T>/dt=<YYYY-MM-DD>/ in the lake. Bad lines and records go to
errors/<reason>/ with the reason; they do not fail the run. Progress goes to
stderr for inputs that take more than a few seconds; a summary on stdout ends
the run (as JSON with --json). The exit code is 1 if any record did not land.

Each input is cut into batches of about --batch-mib MiB at line ends, and
each batch is written under keys derived from a hash of its bytes. Running
ingest again on the same input — after a kill, a crash or a failed write —
therefore rewrites the objects of the first run instead of adding copies:
rerun until the exit code is 0, and every record is in the lake once. The
cuts depend on --batch-mib, so a rerun must use the same value. Records
without a usable time, and dead letters, are filed under the day the input
file was last modified (stdin: today), which a rerun keeps too. Each batch
writes about one object per partition it holds: larger batches write fewer
objects and take more memory (about 4.5 × --batch-mib per core).

--tz sets the time zone that gives records their day when the lake is
created; for an existing lake it must match the lake's.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			lakeURL := fs.String("lake", "", "lake URL (file:///path, a plain path, mem://, s3://bucket?...) (required)")
			tz := fs.String("tz", "", "time zone of the lake's days, an IANA name such as Asia/Tokyo (default: the lake's, UTC for a new lake)")
			batchMiB := fs.Int("batch-mib", ingest.DefaultStreamBatchBytes>>20, "MiB of input per batch; a rerun must use the same value")
			zstdLevel := fs.Int("zstd-level", 0, "zstd level of the raw objects: 1 fastest, 2 default, 3 better, 4 best; higher levels ingest slower and make raw objects smaller and faster to search (default 2)")
			var carry stringList
			fs.Var(&carry, "carry", "envelope field to copy into each record, e.g. device_id (repeatable)")
			asJSON := fs.Bool("json", false, "print the summary as JSON on stdout")
			return func(ctx context.Context, e *env, args []string) error {
				if *lakeURL == "" {
					return usagef("--lake is required")
				}
				if *batchMiB < 1 || *batchMiB > 1024 {
					return usagef("--batch-mib %d: want 1 to 1024", *batchMiB)
				}
				if *zstdLevel < 0 || *zstdLevel > 4 {
					return usagef("--zstd-level %d: want 1 to 4", *zstdLevel)
				}
				var opts []loglake.Option
				if *tz != "" {
					loc, err := time.LoadLocation(*tz)
					if err != nil || *tz == "Local" {
						return usagef("--tz %q: want an IANA zone name such as UTC or Asia/Tokyo", *tz)
					}
					opts = append(opts, loglake.WithTimeZone(loc))
				}
				if len(args) == 0 {
					args = []string{"-"}
				}
				lake, err := loglake.Open(ctx, *lakeURL, opts...)
				if err != nil {
					return err
				}
				defer lake.Close()
				sum, err := runIngest(ctx, e, lake, ingest.Options{CarryFields: carry, ZstdLevel: *zstdLevel}, *batchMiB<<20, args)
				if sum != nil {
					if *asJSON {
						enc := json.NewEncoder(e.stdout)
						enc.SetIndent("", "  ")
						if jerr := enc.Encode(sum); jerr != nil && err == nil {
							err = jerr
						}
					} else {
						sum.print(e.stdout)
					}
				}
				return err
			}
		},
	})
}

// ingestSummary is what an ingest run did.
type ingestSummary struct {
	Files        int     `json:"files"`
	InputBytes   int64   `json:"input_bytes"`
	Records      int64   `json:"records_accepted"`
	DeadLettered int64   `json:"records_dead_lettered"`
	Partitions   int     `json:"partitions_written"`
	Objects      int64   `json:"objects"`
	ErrorObjects int64   `json:"error_objects"`
	Bytes        int64   `json:"bytes_written"`
	Spilled      int64   `json:"records_spilled"`
	Failed       int64   `json:"records_failed"`
	Seconds      float64 `json:"seconds"`
}

func (s *ingestSummary) print(w io.Writer) {
	fmt.Fprintf(w, "ingested %d records (%d dead-lettered) from %s in %.1fs: %d partitions, %d objects, %s written",
		s.Records, s.DeadLettered, humanBytes(s.InputBytes), s.Seconds, s.Partitions, s.Objects+s.ErrorObjects, humanBytes(s.Bytes))
	if s.Spilled > 0 {
		fmt.Fprintf(w, "; %d records spilled (run again or call Recover)", s.Spilled)
	}
	if s.Failed > 0 {
		fmt.Fprintf(w, "; %d records FAILED", s.Failed)
	}
	fmt.Fprintln(w)
}

func runIngest(ctx context.Context, e *env, lake *loglake.Lake, opts ingest.Options, batchBytes int, files []string) (*ingestSummary, error) {
	var mu sync.Mutex
	parts := map[loglake.Partition]bool{}
	opts.Hooks.OnFlush = func(f ingest.FlushInfo) {
		if f.Partition.Tenant != "" {
			mu.Lock()
			parts[f.Partition] = true
			mu.Unlock()
		}
	}
	ing, err := ingest.New(lake, &opts)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	p := &progress{w: e.stderr, start: start, ing: ing, tty: isTerminal(e.stderr)}
	stopProgress := p.run()
	var readErr error
	for _, name := range files {
		if readErr = ingestFile(ctx, e, ing, name, batchBytes); readErr != nil {
			break
		}
	}
	err = ing.Close(ctx)
	stopProgress()
	st := ing.Stats()
	mu.Lock()
	sum := &ingestSummary{
		Files: len(files), InputBytes: st.BytesIn, Records: st.Records, DeadLettered: st.DeadLettered,
		Partitions: len(parts), Objects: st.Objects, ErrorObjects: st.ErrorObjects, Bytes: st.BytesWritten,
		Spilled: st.Spilled, Failed: st.Failed + st.Refused, Seconds: time.Since(start).Seconds(),
	}
	mu.Unlock()
	err = errors.Join(readErr, err)
	var fe *ingest.FlushError
	if errors.As(err, &fe) {
		return sum, fmt.Errorf("%d records did not land; run the same command again to complete the lake: %w", sum.Failed, err)
	}
	return sum, err
}

// ingestFile feeds one input to the Ingestor as a stream of batches.
func ingestFile(ctx context.Context, e *env, ing *ingest.Ingestor, name string, batchBytes int) error {
	var r io.Reader
	var arrived time.Time // stdin: now
	if name == "-" {
		r = e.stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return fmt.Errorf("%s: is a directory", name)
		}
		r, arrived = f, fi.ModTime()
	}
	br := bufio.NewReaderSize(r, 1<<16)
	dec, closeDec, err := decompressor(br, name)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer closeDec()
	if _, err := ing.AddStream(ctx, dec, ingest.StreamOptions{BatchBytes: batchBytes, Arrived: arrived}); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// decompressor returns a reader of r's plain content, by name's extension,
// or for stdin by the magic number.
func decompressor(r *bufio.Reader, name string) (io.Reader, func(), error) {
	kind := ""
	switch {
	case strings.HasSuffix(name, ".gz"):
		kind = "gzip"
	case strings.HasSuffix(name, ".zst"):
		kind = "zstd"
	case name == "-":
		magic, _ := r.Peek(4)
		switch {
		case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
			kind = "gzip"
		case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
			kind = "zstd"
		}
	}
	switch kind {
	case "gzip":
		g, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return g, func() { g.Close() }, nil
	case "zstd":
		z, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, nil, err
		}
		return z, z.Close, nil
	}
	return r, func() {}, nil
}

// progress prints a line to stderr every few seconds once an ingest has run
// for a while.
type progress struct {
	w     io.Writer
	start time.Time
	ing   *ingest.Ingestor
	tty   bool // rewrite one line with \r; otherwise one line per report
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// run reports every 2 s after the first 3 s until the returned stop is called.
func (p *progress) run() (stop func()) {
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		shown := false
		timer := time.NewTimer(3 * time.Second)
		defer timer.Stop()
		for {
			select {
			case <-done:
				if shown {
					fmt.Fprintln(p.w)
				}
				return
			case now := <-timer.C:
				timer.Reset(2 * time.Second)
				st := p.ing.Stats()
				el := now.Sub(p.start).Seconds()
				line := fmt.Sprintf("ingest: %s read, %d records, %d dead-lettered, %.1f MiB/s, %.0f records/s",
					humanBytes(st.BytesIn), st.Records, st.DeadLettered, float64(st.BytesIn)/(1<<20)/el, float64(st.Records)/el)
				if p.tty {
					fmt.Fprintf(p.w, "\r%s   ", line)
					shown = true
				} else {
					fmt.Fprintln(p.w, line)
				}
			}
		}
	}()
	return func() { close(done); <-ended }
}
