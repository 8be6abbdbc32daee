package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Engines.
const (
	engineLoglake = "loglake"
	engineDuckDB  = "duckdb"
)

// Operations.
const (
	opIngest  = "ingest"  // envelope file → partitioned raw objects
	opCompact = "compact" // raw objects → Parquet per tenant and day
	opQuery   = "query"   // count the rows a query matches
)

// task is one measurement, run in a child process.
type task struct {
	Engine  string     `json:"engine"`
	Op      string     `json:"op"`
	Input   string     `json:"input"`  // envelope file (ingest) or lake directory
	Output  string     `json:"output"` // directory written (ingest, compact)
	Threads int        `json:"threads"`
	Query   *querySpec `json:"query,omitempty"`
}

// querySpec is a search: a predicate over a scope, on raw or Parquet data.
type querySpec struct {
	Source  string   `json:"source"`  // "raw" or "parquet"
	Tenants []string `json:"tenants"` // nil: every tenant (a cross-tenant scan)
	From    string   `json:"from"`    // first day, YYYY-MM-DD
	To      string   `json:"to"`      // last day, inclusive
	Where   string   `json:"where"`   // the predicate, SQL both engines accept
	// LakeGlob makes DuckDB glob every file of the lake and prune by the
	// hive columns, as a user who does not know the partitions writes it;
	// otherwise its glob names the partitions' directories.
	LakeGlob bool `json:"lake_glob,omitempty"`
}

// sqlWhere returns the WHERE clause: scope, days and the predicate.
func (q *querySpec) sqlWhere() string {
	var b bytes.Buffer
	switch len(q.Tenants) {
	case 0:
	case 1:
		fmt.Fprintf(&b, "tenant_id = '%s' AND ", q.Tenants[0])
	default:
		b.WriteString("tenant_id IN (")
		for i, t := range q.Tenants {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "'%s'", t)
		}
		b.WriteString(") AND ")
	}
	if q.From == q.To {
		fmt.Fprintf(&b, "dt = '%s'", q.From)
	} else {
		fmt.Fprintf(&b, "dt BETWEEN '%s' AND '%s'", q.From, q.To)
	}
	fmt.Fprintf(&b, " AND (%s)", q.Where)
	return b.String()
}

// result is what a child reports.
type result struct {
	Seconds float64 `json:"seconds"`
	Count   int64   `json:"count"` // records ingested, rows compacted, rows matched
	Err     string  `json:"err,omitempty"`
	MaxRSS  int64   `json:"max_rss"` // peak resident set of the child process, bytes
	// OutBytes and OutFiles are the Parquet a compaction wrote.
	OutBytes int64 `json:"out_bytes,omitempty"`
	OutFiles int   `json:"out_files,omitempty"`
}

// parquetOutput returns the bytes and the number of the .parquet files
// under dir.
func parquetOutput(dir string) (size int64, files int, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		size += fi.Size()
		files++
		return nil
	})
	return size, files, err
}

// runChild runs the task encoded in arg and prints its result as JSON.
func runChild(arg string) int {
	var t task
	if err := json.Unmarshal([]byte(arg), &t); err != nil {
		fmt.Fprintln(os.Stderr, "compare: bad -child task:", err)
		return 2
	}
	if t.Threads > 0 {
		runtime.GOMAXPROCS(t.Threads)
	}
	ctx := context.Background()
	var (
		res result
		err error
	)
	switch t.Engine {
	case engineLoglake:
		res, err = lakeRun(ctx, t)
	case engineDuckDB:
		res, err = duckRun(ctx, t)
	default:
		err = fmt.Errorf("unknown engine %q", t.Engine)
	}
	if err != nil {
		res.Err = err.Error()
	}
	res.MaxRSS = peakRSS()
	out, _ := json.Marshal(res)
	os.Stdout.Write(append(out, '\n'))
	return 0
}

// peakRSS returns this process's peak resident set (VmHWM), in bytes, or 0
// where /proc does not tell. VmHWM belongs to the address space exec
// created, so unlike ru_maxrss it does not count the parent's memory.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v) // "123456 kB"
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err == nil {
					return kb * 1024
				}
			}
		}
	}
	return 0
}

// errUnavailable marks a measurement the loglake side cannot run yet
// because the package it needs is not there.
var errUnavailable = errors.New("not available yet")

// spawn runs t in a child process and returns its result with the child's
// peak RSS.
func spawn(ctx context.Context, t task) (result, error) {
	exe, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	arg, _ := json.Marshal(t)
	cmd := exec.CommandContext(ctx, exe, "-child", string(arg))
	cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(t.Threads))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("%s %s: %w\n%s", t.Engine, t.Op, err, stderr.Bytes())
	}
	var res result
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
		return result{}, fmt.Errorf("%s %s: bad child output %q: %w\n%s", t.Engine, t.Op, stdout.Bytes(), err, stderr.Bytes())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && res.MaxRSS == 0 {
		// Only when /proc was not there: Linux seeds a child's ru_maxrss
		// with the parent's high-water mark (os/exec clones with
		// CLONE_VM, and exec keeps the larger of the old and new mm's
		// marks), so this over-reports by the parent's size.
		res.MaxRSS = ru.Maxrss * 1024 // KiB on Linux
	}
	if res.Err != "" {
		if res.Err == errUnavailable.Error() || bytes.HasSuffix([]byte(res.Err), []byte(errUnavailable.Error())) {
			return res, fmt.Errorf("%s %s: %w", t.Engine, t.Op, errUnavailable)
		}
		return res, fmt.Errorf("%s %s: %s", t.Engine, t.Op, res.Err)
	}
	return res, nil
}

// timed runs f and returns its duration in seconds.
func timed(f func() error) (float64, error) {
	start := time.Now()
	err := f()
	return time.Since(start).Seconds(), err
}

// samples are the results of one side of one measurement over the runs.
type samples struct {
	results     []result
	unavailable bool
	err         error
}

func (s *samples) add(r result, err error) {
	switch {
	case errors.Is(err, errUnavailable):
		s.unavailable = true
	case err != nil:
		if s.err == nil {
			s.err = err
		}
	default:
		s.results = append(s.results, r)
	}
}

// ok reports whether every run succeeded.
func (s *samples) ok() bool { return !s.unavailable && s.err == nil && len(s.results) > 0 }

// median returns the median time in seconds.
func (s *samples) median() float64 {
	t := make([]float64, len(s.results))
	for i, r := range s.results {
		t[i] = r.Seconds
	}
	slices.Sort(t)
	n := len(t)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return t[n/2]
	}
	return (t[n/2-1] + t[n/2]) / 2
}

// peakRSS returns the largest peak RSS over the runs, in bytes.
func (s *samples) peakRSS() int64 {
	var m int64
	for _, r := range s.results {
		m = max(m, r.MaxRSS)
	}
	return m
}

// output returns the largest Parquet output of the runs and its file count.
func (s *samples) output() (size int64, files int) {
	for _, r := range s.results {
		if r.OutBytes > size {
			size, files = r.OutBytes, r.OutFiles
		}
	}
	return size, files
}

// counts returns the distinct counts the runs reported.
func (s *samples) counts() []int64 {
	var c []int64
	for _, r := range s.results {
		if !slices.Contains(c, r.Count) {
			c = append(c, r.Count)
		}
	}
	return c
}
