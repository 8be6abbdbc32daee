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
		usage:   "--lake URL [--tz ZONE] [--max-active-partitions N] [--carry FIELD]... [--json] [FILE|-]...",
		summary: "split NDJSON envelopes into records and write them to tenant/day partitions",
		help: `ingest reads NDJSON — envelopes {"tenant_id":…,"log":[…]} or bare records, one
per line — from the files named (plain, .gz or .zst; "-" or none: stdin, whose
compression is detected), splits envelopes into records, and writes them to
raw/tenant_id=<T>/dt=<YYYY-MM-DD>/ in the lake. Bad lines and records go to
errors/<reason>/ with the reason; they do not fail the run. Progress goes to
stderr for inputs that take more than a few seconds; a summary on stdout ends
the run (as JSON with --json). The exit code is 1 if any record did not land.

A rerun does not know what an earlier run wrote: running ingest again on an
input that an interrupted run had begun writes again the records that had
landed. ingest gathers records across inputs into few, large objects, which
no rerun could reproduce. Where a source redelivers, feed the library's
Ingestor.AddBatch with the source's batch ids instead, which writes each
batch under keys derived from its id (see examples/lambda).

--tz sets the time zone that gives records their day when the lake is
created; for an existing lake it must match the lake's.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			lakeURL := fs.String("lake", "", "lake URL (file:///path, a plain path, mem://, s3://bucket?...) (required)")
			tz := fs.String("tz", "", "time zone of the lake's days, an IANA name such as Asia/Tokyo (default: the lake's, UTC for a new lake)")
			maxActive := fs.Int("max-active-partitions", 0, fmt.Sprintf("partitions buffered at once (default %d)", ingest.DefaultMaxActivePartitions))
			zstdLevel := fs.Int("zstd-level", 0, "zstd level of the raw objects: 1 fastest, 2 default, 3 better, 4 best; higher levels ingest slower and make raw objects smaller and faster to search (default 2)")
			var carry stringList
			fs.Var(&carry, "carry", "envelope field to copy into each record, e.g. device_id (repeatable)")
			asJSON := fs.Bool("json", false, "print the summary as JSON on stdout")
			return func(ctx context.Context, e *env, args []string) error {
				if *lakeURL == "" {
					return usagef("--lake is required")
				}
				if *maxActive < 0 {
					return usagef("--max-active-partitions must be positive")
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
				sum, err := runIngest(ctx, e, lake, ingest.Options{MaxActivePartitions: *maxActive, CarryFields: carry, ZstdLevel: *zstdLevel}, args)
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

func runIngest(ctx context.Context, e *env, lake *loglake.Lake, opts ingest.Options, files []string) (*ingestSummary, error) {
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
	p := &progress{w: e.stderr, start: start, next: start.Add(3 * time.Second), ing: ing, tty: isTerminal(e.stderr)}
	var readErr error
	for _, name := range files {
		if readErr = ingestFile(ctx, e, ing, name, p); readErr != nil {
			break
		}
	}
	err = ing.Close(ctx)
	p.done()
	st := ing.Stats()
	mu.Lock()
	sum := &ingestSummary{
		Files: len(files), InputBytes: st.BytesIn, Records: st.Records, DeadLettered: st.DeadLettered,
		Partitions: len(parts), Objects: st.Objects, ErrorObjects: st.ErrorObjects, Bytes: st.BytesWritten,
		Spilled: st.Spilled, Failed: st.Failed + st.Refused, Seconds: time.Since(start).Seconds(),
	}
	mu.Unlock()
	if readErr != nil {
		return sum, errors.Join(readErr, err)
	}
	var fe *ingest.FlushError
	if errors.As(err, &fe) {
		return sum, fmt.Errorf("%d records did not land: %w", sum.Failed, err)
	}
	return sum, err
}

// ingestFile feeds one input to the Ingestor in chunks of whole lines.
func ingestFile(ctx context.Context, e *env, ing *ingest.Ingestor, name string, p *progress) error {
	var r io.Reader
	if name == "-" {
		r = e.stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	br := bufio.NewReaderSize(r, 1<<16)
	dec, closeDec, err := decompressor(br, name)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer closeDec()
	const chunk = 1 << 20
	buf := make([]byte, 0, 2*chunk)
	for {
		if len(buf) == cap(buf) { // a line longer than the buffer
			buf = append(buf, 0)[:len(buf)]
		}
		n, rerr := dec.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		end := len(buf)
		if rerr == nil {
			if len(buf) < chunk {
				continue
			}
			end = bytes.LastIndexByte(buf, '\n') + 1
			if end == 0 {
				continue // keep reading the long line
			}
		}
		if end > 0 {
			if err := ing.Add(ctx, buf[:end]); err != nil {
				return err
			}
			p.add()
		}
		buf = buf[:copy(buf, buf[end:])]
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("%s: %w", name, rerr)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
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

// progress prints a line to stderr every few seconds once an input has run
// for a while.
type progress struct {
	w     io.Writer
	start time.Time
	next  time.Time
	ing   *ingest.Ingestor
	tty   bool // rewrite one line with \r; otherwise one line per report
	shown bool
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (p *progress) add() {
	now := time.Now()
	if now.Before(p.next) {
		return
	}
	p.next = now.Add(2 * time.Second)
	st := p.ing.Stats()
	el := now.Sub(p.start).Seconds()
	line := fmt.Sprintf("ingest: %s read, %d records, %d dead-lettered, %.1f MiB/s, %.0f records/s",
		humanBytes(st.BytesIn), st.Records, st.DeadLettered, float64(st.BytesIn)/(1<<20)/el, float64(st.Records)/el)
	if p.tty {
		fmt.Fprintf(p.w, "\r%s   ", line)
		p.shown = true
	} else {
		fmt.Fprintln(p.w, line)
	}
}

func (p *progress) done() {
	if p.shown {
		fmt.Fprintln(p.w)
	}
}
