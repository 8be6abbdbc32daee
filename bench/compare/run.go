package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/gen"
	"github.com/loglake/loglake/internal/rawcodec"
)

// dataEnd is the last day of the generated data (some envelopes straddle
// into the next).
var dataEnd = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

type config struct {
	records, tenants, days int
	dir                    string
	runs                   int
	out                    string
	keep                   bool
	threads                int
	// historyRecords over historyDays make the long lake of runHistory.
	historyRecords, historyDays int
}

// row is one line of the report: one measurement, both sides.
type row struct {
	stage, scope   string
	note           string // shown under the table when non-empty
	records        int64  // records in scope (records/s)
	bytes          int64  // logical NDJSON bytes in scope (MB/s)
	want           int64  // the referee's count
	lake, duck     samples
	lakeNA, duckNA string // why a side has no numbers
}

// run generates the data, measures both engines, checks every count and
// reports.
func run(ctx context.Context, cfg config) error {
	if cfg.records <= 0 || cfg.tenants <= 0 || cfg.days <= 0 || cfg.runs <= 0 || cfg.threads <= 0 {
		return fmt.Errorf("-records, -tenants, -days, -runs and -threads must be positive")
	}
	base := cfg.dir
	if base == "" {
		base = os.TempDir()
		if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
			// tmpfs: mass deletes and re-creates on ext4 make repeated
			// runs drift; in memory they do not.
			base = "/dev/shm"
		}
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp(base, "loglake-compare-")
	if err != nil {
		return err
	}
	if cfg.keep {
		logf("keeping %s", work)
	} else {
		defer os.RemoveAll(work)
	}

	// The data: envelopes from loglake's generator, one file both engines read.
	g := gen.New(gen.Config{Tenants: cfg.tenants, Days: cfg.days, End: dataEnd})
	envelopes, n := g.AppendNDJSON(nil, cfg.records)
	envFile := filepath.Join(work, "envelopes.ndjson")
	if err := os.WriteFile(envFile, envelopes, 0o644); err != nil {
		return err
	}
	logf("generated %d records in %d envelopes (%.1f MB), %d tenants, %d days, in %s", n, g.Envelopes, mb(len(envelopes)), cfg.tenants, cfg.days, work)
	ref, err := newReferee(envelopes)
	if err != nil {
		return err
	}
	if ref.records != int64(n) {
		return fmt.Errorf("referee counted %d records, the generator %d", ref.records, n)
	}
	envBytes := int64(len(envelopes))
	envelopes = nil

	rep := &report{cfg: cfg, dir: work, envBytes: envBytes, records: int64(n), loadStart: loadAvg()}
	tk := func(engine, op, in, out string, q *querySpec) task {
		return task{Engine: engine, Op: op, Input: in, Output: out, Threads: cfg.threads, Query: q}
	}

	// Ingest. The last loglake run's lake is the raw fixture of what follows.
	lakeDir := filepath.Join(work, "lake")
	duckDir := filepath.Join(work, "duck")
	ingestRow := &row{stage: "ingest", scope: "all", records: int64(n), bytes: envBytes, want: int64(n),
		note: "envelopes → zstd NDJSON per tenant/day; DuckDB: read_json + unnest + COPY … PARTITION_BY (tenant_id, dt)"}
	measure(ctx, cfg.runs, ingestRow, func(engine string) (task, error) {
		if engine == engineLoglake {
			return tk(engine, opIngest, envFile, lakeDir, nil), os.RemoveAll(lakeDir)
		}
		return tk(engine, opIngest, envFile, duckDir, nil), os.RemoveAll(duckDir)
	})
	rep.rows = append(rep.rows, ingestRow)
	if !ingestRow.lake.ok() {
		return fmt.Errorf("loglake ingest failed, nothing else can be measured: %v", ingestRow.lake.err)
	}
	os.RemoveAll(duckDir)

	// What the raw fixture holds, per partition, for records/s and MB/s.
	parts, err := scanRaw(lakeDir)
	if err != nil {
		return err
	}
	rep.rawBytes = parts.total()

	lastDay := loglake.DayOf(dataEnd, time.UTC)
	firstDay := lastDay.AddDays(-(cfg.days - 1))
	weekDays := min(cfg.days, 7)
	weekStart := lastDay.AddDays(-(weekDays - 1))
	top := gen.TenantName(0)
	scopes := []struct {
		name string
		q    querySpec
	}{
		{"1 tenant-day", querySpec{Tenants: []string{top}, From: lastDay.String(), To: lastDay.String()}},
		{fmt.Sprintf("1 tenant-week (%d days)", weekDays), querySpec{Tenants: []string{top}, From: weekStart.String(), To: lastDay.String()}},
		{fmt.Sprintf("all %d tenants × %d days", cfg.tenants, cfg.days), querySpec{From: firstDay.String(), To: lastDay.String()}},
	}

	queries := func(source, lakeFor string, duckLake string, note string) {
		for _, sc := range scopes {
			for _, p := range predicates {
				q := sc.q
				q.Source, q.Where = source, p.where
				scopeN, want := ref.count(&q, p)
				r := &row{stage: source + " " + p.name, scope: sc.name, records: scopeN,
					bytes: parts.bytesIn(&q), want: want, note: note}
				if lakeFor == "" {
					r.lakeNA = "no compacted lake"
				}
				measure(ctx, cfg.runs, r, func(engine string) (task, error) {
					if engine == engineLoglake {
						if lakeFor == "" {
							return task{}, errUnavailable
						}
						return tk(engine, opQuery, lakeFor, "", &q), nil
					}
					return tk(engine, opQuery, duckLake, "", &q), nil
				})
				rep.rows = append(rep.rows, r)
			}
		}
	}

	// Searches over raw NDJSON, before compaction.
	queries("raw", lakeDir, lakeDir, "")

	// Compaction of the very same raw objects: loglake on a fresh copy of
	// the fixture each run (it deletes the raw objects it covers), DuckDB
	// reading the fixture itself.
	compDir := filepath.Join(work, "lake-compacted")
	duckPQ := filepath.Join(duckDir, "compacted")
	compRow := &row{stage: "compact", scope: "all", records: int64(n), bytes: rep.rawBytes, want: int64(n),
		note: "raw NDJSON → zstd Parquet per tenant/day; DuckDB: COPY (read_json) TO … (FORMAT parquet, PARTITION_BY (tenant_id, dt), COMPRESSION zstd)"}
	measure(ctx, cfg.runs, compRow, func(engine string) (task, error) {
		if engine == engineLoglake {
			if err := os.RemoveAll(compDir); err != nil {
				return task{}, err
			}
			if err := copyTree(lakeDir, compDir); err != nil {
				return task{}, err
			}
			return tk(engine, opCompact, compDir, "", nil), nil
		}
		if err := os.RemoveAll(duckDir); err != nil {
			return task{}, err
		}
		return tk(engine, opCompact, lakeDir, duckPQ, nil), os.MkdirAll(duckDir, 0o755)
	})
	rep.rows = append(rep.rows, compRow)

	// Searches over Parquet: loglake's compacted files for both engines
	// when loglake compacted; else DuckDB's own Parquet, DuckDB alone.
	if compRow.lake.ok() {
		os.RemoveAll(duckDir)
		queries("parquet", compDir, compDir, "")
	} else {
		queries("parquet", "", duckDir, "DuckDB over its own Parquet: loglake's compaction did not run")
	}

	if err := runHistory(ctx, cfg, work, rep); err != nil {
		return err
	}

	if err := rep.check(); err != nil {
		return err
	}
	md := rep.markdown()
	fmt.Print(md)
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, []byte(md), 0o644); err != nil {
			return err
		}
		logf("wrote %s", cfg.out)
	}
	return nil
}

// shortTime and shortRuns: a measurement whose medians are both under
// shortTime seconds is run shortRuns times the requested runs. A query of
// a few milliseconds in a fresh process varies by more than its own
// length with what else the machine does; more runs of it cost little.
const (
	shortTime = 0.05
	shortRuns = 3
)

// measure runs r's measurement runs times on each engine (shortRuns times
// that for a short one), alternating which goes first, and records the
// samples. prepare makes the task of one engine for one run (and clears
// what that run writes).
func measure(ctx context.Context, runs int, r *row, prepare func(engine string) (task, error)) {
	measureRounds(ctx, 0, runs, r, prepare)
	if r.lake.ok() && r.duck.ok() && r.lake.median() < shortTime && r.duck.median() < shortTime {
		measureRounds(ctx, runs, shortRuns*runs, r, prepare)
	}
	logf("%-18s %-26s loglake %s  duckdb %s", r.stage, r.scope, brief(&r.lake), brief(&r.duck))
}

// measureRounds runs rounds from up to to, alternating which engine goes
// first.
func measureRounds(ctx context.Context, from, to int, r *row, prepare func(engine string) (task, error)) {
	for i := from; i < to; i++ {
		order := []string{engineLoglake, engineDuckDB}
		if i%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, engine := range order {
			s := &r.lake
			if engine == engineDuckDB {
				s = &r.duck
			}
			if s.unavailable {
				continue
			}
			t, err := prepare(engine)
			var res result
			if err == nil {
				res, err = spawn(ctx, t)
			}
			s.add(res, err)
		}
	}
}

func brief(s *samples) string {
	switch {
	case s.unavailable:
		return "n/a"
	case s.err != nil:
		return "error"
	}
	return fmt.Sprintf("%.3fs (count %v)", s.median(), s.counts())
}

// rawParts is what the raw fixture holds per partition.
type rawParts map[string]int64 // "tenant/dt" → decoded NDJSON bytes

func (p rawParts) total() int64 {
	var t int64
	for _, b := range p {
		t += b
	}
	return t
}

// bytesIn returns the decoded NDJSON bytes of q's scope.
func (p rawParts) bytesIn(q *querySpec) int64 {
	var t int64
	for k, b := range p {
		tenant, day, _ := strings.Cut(k, "/")
		if len(q.Tenants) > 0 && !slices.Contains(q.Tenants, tenant) {
			continue
		}
		if day >= q.From && day <= q.To {
			t += b
		}
	}
	return t
}

// scanRaw decodes every raw object of the lake in dir.
func scanRaw(dir string) (rawParts, error) {
	parts := rawParts{}
	root := filepath.Join(dir, loglake.AreaRaw)
	var buf []byte
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		key, _ := filepath.Rel(dir, path)
		ok, err := loglake.ParseObjectKey(filepath.ToSlash(key))
		if err != nil {
			return nil // not an object of the layout (a temp file, say)
		}
		codec, isRaw := rawcodec.FromKey(key)
		if !isRaw {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		buf, err = rawcodec.AppendDecoded(buf[:0], data, codec)
		if err != nil {
			return err
		}
		parts[ok.Partition.Tenant+"/"+ok.Partition.Day.String()] += int64(len(buf))
		return nil
	})
	return parts, err
}

// copyTree copies the directory tree src to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "compare: "+format+"\n", args...)
}

func mb(n int) float64 { return float64(n) / 1e6 }
