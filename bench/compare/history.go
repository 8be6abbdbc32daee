package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/gen"
)

// runHistory measures searches on a second, long lake: records spread over
// many days, so that every partition is small. It asks two questions the
// week-long lake cannot: how fast is one tenant-day found among thousands
// of partitions when the reader must discover them (DuckDB globs every file
// of the lake and prunes by the hive columns; loglake plans the partition
// through projection and lists nothing), and how fast is a long range of
// many small files read. The fixture is built by loglake (ingest, then
// compaction) and checked against the referee; only the searches are
// timed.
func runHistory(ctx context.Context, cfg config, work string, rep *report) error {
	if cfg.historyDays <= 0 || cfg.historyRecords <= 0 {
		return nil
	}
	g := gen.New(gen.Config{Seed: 2, Tenants: cfg.tenants, Days: cfg.historyDays, End: dataEnd})
	envelopes, n := g.AppendNDJSON(nil, cfg.historyRecords)
	envFile := filepath.Join(work, "history.ndjson")
	if err := os.WriteFile(envFile, envelopes, 0o644); err != nil {
		return err
	}
	ref, err := newReferee(envelopes)
	if err != nil {
		return err
	}
	envelopes = nil
	logf("history: generated %d records, %d tenants, %d days (%d partitions)", n, cfg.tenants, cfg.historyDays, len(ref.partitions))

	rawDir := filepath.Join(work, "history")
	pqDir := filepath.Join(work, "history-compacted")
	build := func(t task) error {
		res, err := spawn(ctx, t)
		if err != nil {
			return fmt.Errorf("history fixture: %w", err)
		}
		if res.Count != int64(n) {
			return fmt.Errorf("history fixture: loglake %s counted %d records, want %d", t.Op, res.Count, n)
		}
		return nil
	}
	if err := build(task{Engine: engineLoglake, Op: opIngest, Input: envFile, Output: rawDir, Threads: cfg.threads}); err != nil {
		return err
	}
	if err := copyTree(rawDir, pqDir); err != nil {
		return err
	}
	if err := build(task{Engine: engineLoglake, Op: opCompact, Input: pqDir, Threads: cfg.threads}); err != nil {
		return err
	}
	parts, err := scanRaw(rawDir)
	if err != nil {
		return err
	}
	rep.history = fmt.Sprintf("%d records from %d tenants over %d days (%d partitions, %.1f MB as formatted NDJSON)",
		n, cfg.tenants, cfg.historyDays, len(ref.partitions), mb64(parts.total()))

	lastDay := loglake.DayOf(dataEnd, time.UTC)
	firstDay := lastDay.AddDays(-(cfg.historyDays - 1))
	top := gen.TenantName(0)
	scopes := []struct {
		name, note string
		q          querySpec
	}{
		{
			fmt.Sprintf("1 tenant-day of %d days, DuckDB globbing the lake", cfg.historyDays),
			"the long lake; DuckDB globs every file of the lake (`raw/*/*/*`, `compacted/*/*/*`) and prunes by the hive columns, as a user who does not know the partitions writes it; loglake plans the one partition through projection and lists nothing",
			querySpec{Tenants: []string{top}, From: lastDay.String(), To: lastDay.String(), LakeGlob: true},
		},
		{
			fmt.Sprintf("1 tenant × %d days (small files)", cfg.historyDays),
			"the long lake; DuckDB's glob names the tenant's directory (`tenant_id=…/*/*`)",
			querySpec{Tenants: []string{top}, From: firstDay.String(), To: lastDay.String()},
		},
	}
	for _, source := range []string{"raw", "parquet"} {
		dir := rawDir
		if source == "parquet" {
			dir = pqDir
		}
		for _, sc := range scopes {
			for _, p := range predicates {
				q := sc.q
				q.Source, q.Where = source, p.where
				scopeN, want := ref.count(&q, p)
				r := &row{stage: source + " " + p.name, scope: sc.name, records: scopeN,
					bytes: parts.bytesIn(&q), want: want, note: sc.note}
				measure(ctx, cfg.runs, r, func(engine string) (task, error) {
					return task{Engine: engine, Op: opQuery, Input: dir, Threads: cfg.threads, Query: &q}, nil
				})
				rep.rows = append(rep.rows, r)
			}
		}
	}
	return nil
}
