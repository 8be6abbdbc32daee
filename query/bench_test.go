package query

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
	"github.com/loglake/loglake/ingest"
	"github.com/loglake/loglake/internal/gen"
	"github.com/loglake/loglake/internal/rawcodec"
)

func BenchmarkParse(b *testing.B) {
	sql := "SELECT timestamp, file_path FROM logs WHERE tenant_id = 'acme' AND dt BETWEEN '2024-05-01' AND '2024-05-31' AND file_path LIKE '%社外秘%' ORDER BY timestamp DESC LIMIT 100"
	b.SetBytes(int64(len(sql)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(sql); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}

// benchLake is a lake of one tenant's week of generated PC operation logs,
// raw or compacted, shared by the query benchmarks of one process.
type benchLake struct {
	lake    *loglake.Lake
	tenant  string
	days    []loglake.Day
	ndjson  map[loglake.Day]int64 // uncompressed NDJSON bytes per day
	records map[loglake.Day]int64
	secrets map[loglake.Day]int64 // records whose file_path holds gen.Secret
	// matches counts, per benchPredicates entry, the records of each day
	// it matches (decoded with encoding/json, apart from the engine).
	matches  map[string]map[loglake.Day]int64
	setupErr error
}

var (
	benchOnce  [2]sync.Once
	benchLakes [2]*benchLake
	benchDirs  []string // removed by TestMain
)

// TestMain removes the benchmarks' lakes, which outlive one benchmark so
// that the day and week runs share them.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range benchDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

const benchRecordsPerDay = 150_000

func getBenchLake(b *testing.B, compacted bool) *benchLake {
	i := 0
	if compacted {
		i = 1
	}
	benchOnce[i].Do(func() {
		dir, err := os.MkdirTemp("", "loglake-query-bench-")
		if err != nil {
			benchLakes[i] = &benchLake{setupErr: err}
			return
		}
		benchDirs = append(benchDirs, dir)
		benchLakes[i] = makeBenchLake(dir, compacted)
	})
	bl := benchLakes[i]
	if bl.setupErr != nil {
		b.Fatal(bl.setupErr)
	}
	return bl
}

func makeBenchLake(dir string, compacted bool) *benchLake {
	ctx := context.Background()
	bl := &benchLake{ndjson: map[loglake.Day]int64{}, records: map[loglake.Day]int64{}, secrets: map[loglake.Day]int64{}, matches: map[string]map[loglake.Day]int64{}}
	for _, bp := range benchPredicates {
		bl.matches[bp.name] = map[loglake.Day]int64{}
	}
	lake, err := loglake.Open(ctx, "file://"+dir)
	if err != nil {
		bl.setupErr = err
		return bl
	}
	bl.lake = lake
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	g := gen.New(gen.Config{Tenants: 1, Days: 7, End: end, Seed: 42})
	bl.tenant = g.Tenants()[0]
	ing, err := ingest.New(lake, &ingest.Options{})
	if err != nil {
		bl.setupErr = err
		return bl
	}
	var buf []byte
	for g.Records < 7*benchRecordsPerDay {
		buf, _ = g.AppendEnvelope(buf[:0])
		if err := ing.Add(ctx, buf); err != nil {
			bl.setupErr = err
			return bl
		}
	}
	if err := ing.Close(ctx); err != nil {
		bl.setupErr = err
		return bl
	}
	for d := range 7 {
		bl.days = append(bl.days, loglake.DayOf(end, time.UTC).AddDays(-d))
	}
	// Uncompressed sizes: what the records weigh as NDJSON.
	for _, day := range bl.days {
		p := loglake.Partition{Tenant: bl.tenant, Day: day}
		for obj, err := range lake.List(ctx, p.Prefix(loglake.AreaRaw), "") {
			if err != nil {
				bl.setupErr = err
				return bl
			}
			data, err := lake.ReadAll(ctx, obj.Key)
			if err != nil {
				bl.setupErr = err
				return bl
			}
			c, _ := rawcodec.FromKey(obj.Key)
			plain, err := rawcodec.AppendDecoded(nil, data, c)
			if err != nil {
				bl.setupErr = err
				return bl
			}
			bl.ndjson[day] += int64(len(plain))
			bl.records[day] += int64(bytes.Count(plain, []byte{'\n'}))
			for _, line := range bytes.Split(plain, []byte{'\n'}) {
				if len(line) > 0 {
					var r benchRecord
					if err := json.Unmarshal(line, &r); err != nil {
						bl.setupErr = err
						return bl
					}
					for _, bp := range benchPredicates {
						if bp.match(&r) {
							bl.matches[bp.name][day]++
						}
					}
				}
				// file_path values hold no quote: the value ends at the next one.
				if _, v, ok := bytes.Cut(line, []byte(`"file_path":"`)); ok {
					if end := bytes.IndexByte(v, '"'); end >= 0 && bytes.Contains(v[:end], []byte(gen.Secret)) {
						bl.secrets[day]++
					}
				}
			}
		}
		if compacted {
			c, err := compact.New(lake, nil)
			if err != nil {
				bl.setupErr = err
				return bl
			}
			if _, err := c.CompactPartition(ctx, p); err != nil {
				bl.setupErr = err
				return bl
			}
		}
	}
	return bl
}

// BenchmarkQuery runs the hard case — an infix LIKE on long Windows paths —
// over one tenant-day and a whole week, on compacted Parquet and on raw
// NDJSON. MB/s is of the uncompressed NDJSON the scanned records weigh.
func BenchmarkQuery(b *testing.B) {
	for _, store := range []string{"parquet", "raw"} {
		for _, span := range []int{1, 7} {
			name := fmt.Sprintf("%s/day", store)
			if span == 7 {
				name = fmt.Sprintf("%s/week", store)
			}
			b.Run(name, func(b *testing.B) {
				bl := getBenchLake(b, store == "parquet")
				eng, err := New(bl.lake, &Options{Now: func() time.Time { return time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC) }})
				if err != nil {
					b.Fatal(err)
				}
				defer eng.Close()
				first, last := bl.days[span-1], bl.days[0]
				sql := fmt.Sprintf("SELECT count(*) FROM logs WHERE tenant_id = '%s' AND dt BETWEEN '%s' AND '%s' AND file_path LIKE '%%社外秘%%'", bl.tenant, first, last)
				q, err := Parse(sql)
				if err != nil {
					b.Fatal(err)
				}
				var size, recs, want int64
				for _, d := range bl.days[:span] {
					size += bl.ndjson[d]
					recs += bl.records[d]
					want += bl.secrets[d]
				}
				benchCount(b, eng, q, size, recs, want)
			})
		}
	}
}

// benchRecord holds the fields benchPredicates read.
type benchRecord struct {
	Operation   string `json:"operation"`
	FilePath    string `json:"file_path"`
	WindowTitle string `json:"window_title"`
	Removable   bool   `json:"removable"`
}

// benchPredicates are the searches of the DuckDB comparison (bench/compare),
// each with a plain Go evaluation that knows the right count.
var benchPredicates = []struct {
	name  string
	where string
	match func(*benchRecord) bool
}{
	{"like", "file_path LIKE '%社外秘%'", func(r *benchRecord) bool { return strings.Contains(r.FilePath, gen.Secret) }},
	{"ilike", "window_title ILIKE '%excel%'", func(r *benchRecord) bool { return strings.Contains(strings.ToLower(r.WindowTitle), "excel") }},
	{"3cond", "operation = 'copy' AND removable = true AND file_path LIKE '%顧客%'", func(r *benchRecord) bool {
		return r.Operation == "copy" && r.Removable && strings.Contains(r.FilePath, "顧客")
	}},
}

// BenchmarkQueryParquet runs the searches of the DuckDB comparison as
// count(*) over compacted Parquet, for one tenant-day and a week. MB/s is of
// the uncompressed NDJSON the scanned records weigh.
func BenchmarkQueryParquet(b *testing.B) {
	for _, bp := range benchPredicates {
		for _, span := range []int{1, 7} {
			name := bp.name + "/day"
			if span == 7 {
				name = bp.name + "/week"
			}
			b.Run(name, func(b *testing.B) {
				bl := getBenchLake(b, true)
				eng, err := New(bl.lake, &Options{Now: func() time.Time { return time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC) }})
				if err != nil {
					b.Fatal(err)
				}
				defer eng.Close()
				first, last := bl.days[span-1], bl.days[0]
				sql := fmt.Sprintf("SELECT count(*) FROM logs WHERE tenant_id = '%s' AND dt BETWEEN '%s' AND '%s' AND %s", bl.tenant, first, last, bp.where)
				q, err := Parse(sql)
				if err != nil {
					b.Fatal(err)
				}
				var size, recs, want int64
				for _, d := range bl.days[:span] {
					size += bl.ndjson[d]
					recs += bl.records[d]
					want += bl.matches[bp.name][d]
				}
				benchCount(b, eng, q, size, recs, want)
			})
		}
	}
}

// benchCount runs the count(*) query q in a benchmark loop over size bytes
// of NDJSON holding recs records, checks the count is want, and reports
// records/s and MB per CPU-second.
func benchCount(b *testing.B, eng *Engine, q Query, size, recs, want int64) {
	b.SetBytes(size)
	b.ReportAllocs()
	var n int64
	c0 := cpuTime()
	for b.Loop() {
		rows, err := eng.Query(context.Background(), q)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			n = rows.RecordBatch().Column(0).(*array.Int64).Value(0)
		}
		if err := rows.Close(); err != nil {
			b.Fatal(err)
		}
	}
	if n != want {
		b.Fatalf("count %d, want %d", n, want)
	}
	b.ReportMetric(float64(recs)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if cpu := cpuTime() - c0; cpu > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/cpu.Seconds()/1e6, "MB/cpu-s")
	}
}
