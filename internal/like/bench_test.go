package like

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/loglake/loglake/internal/gen"
)

// windowsPaths returns n realistic Windows paths of about 255 characters,
// every 1000th containing 社外秘.
func windowsPaths(n int) []string {
	rng := rand.New(rand.NewPCG(1, 2))
	users := []string{"tanaka", "suzuki", "sato", "user", "ito", "kobayashi"}
	dirs := []string{"Documents", "デスクトップ", "プロジェクト", "営業部", "共有", "2024年度", "見積書", "Archive", "Backup", "資料", "契約書", "Temp", "AppData", "Roaming", "Microsoft", "Office"}
	paths := make([]string, n)
	for i := range paths {
		var b strings.Builder
		fmt.Fprintf(&b, `C:\Users\%s%04d`, users[rng.IntN(len(users))], rng.IntN(10000))
		for len([]rune(b.String())) < 230 {
			b.WriteString(`\`)
			b.WriteString(dirs[rng.IntN(len(dirs))])
			fmt.Fprintf(&b, "_%d", rng.IntN(100))
		}
		if i%1000 == 999 {
			b.WriteString(`\社外秘`)
		}
		b.WriteString(`\報告書_最終版.docx`)
		r := []rune(b.String())
		if len(r) > 255 {
			r = append(r[:255-len([]rune(`\報告書.docx`))], []rune(`\報告書.docx`)...)
		}
		paths[i] = string(r)
	}
	return paths
}

var sink int

func benchmarkMatch(b *testing.B, pattern string, opts Options) {
	paths := windowsPaths(4096)
	subjects := make([][]byte, len(paths))
	size := 0
	for i, p := range paths {
		subjects[i] = []byte(p)
		size += len(p)
	}
	m := MustCompile(pattern, opts)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	matches := 0
	for b.Loop() {
		for _, s := range subjects {
			if m.Match(s) {
				matches++
			}
		}
	}
	sink = matches
	b.ReportMetric(float64(b.N)*float64(len(subjects))/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkMatch(b *testing.B) {
	b.Run("infix/LIKE", func(b *testing.B) { benchmarkMatch(b, "%社外秘%", Options{}) })
	b.Run("infix/ILIKE", func(b *testing.B) { benchmarkMatch(b, "%社外秘%", Options{IgnoreCase: true}) })
	b.Run("two-segments/LIKE", func(b *testing.B) { benchmarkMatch(b, "%社外秘%.docx", Options{}) })
	b.Run("two-segments/ILIKE", func(b *testing.B) { benchmarkMatch(b, "%社外秘%.DOCX", Options{IgnoreCase: true}) })
	b.Run("underscore/LIKE", func(b *testing.B) { benchmarkMatch(b, "%社外_%", Options{}) })
	b.Run("ascii-cased/ILIKE", func(b *testing.B) { benchmarkMatch(b, "%Confidential%", Options{IgnoreCase: true}) })
	b.Run("cased/ILIKE", func(b *testing.B) { benchmarkMatch(b, "%SATO00%", Options{IgnoreCase: true}) })
}

// BenchmarkJSONPrefilterBlock measures the raw-NDJSON fast path: one
// bytes.Index over a whole block of lines, line bounds found only at hits.
func BenchmarkJSONPrefilterBlock(b *testing.B) {
	paths := windowsPaths(4096)
	var block []byte
	for i, p := range paths {
		line, _ := json.Marshal(map[string]any{
			"timestamp": "2024-05-01T12:34:56.789Z", "device_id": fmt.Sprintf("d-%d", i),
			"log_type": "file", "operation": "open", "file_path": p,
		})
		block = append(append(block, line...), '\n')
	}
	f := MustCompile("%社外秘%", Options{}).JSONPrefilter()
	b.SetBytes(int64(len(block)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for sc := f.Lines(block); ; {
			if _, _, ok := sc.Next(); !ok {
				break
			}
			n++
		}
		if n == 0 {
			b.Fatal("no lines")
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(paths))/b.Elapsed().Seconds(), "records/s")
}

// genBlock returns an NDJSON block of records from the shared generator,
// one record per line as the raw objects hold them, and the window titles
// among them.
func genBlock(records int) (block []byte, titles [][]byte) {
	g := gen.New(gen.Config{Seed: 7})
	env, _ := g.AppendNDJSON(nil, records)
	for _, line := range bytes.Split(bytes.TrimSpace(env), []byte("\n")) {
		var e struct {
			Log []json.RawMessage `json:"log"`
		}
		if err := json.Unmarshal(line, &e); err != nil {
			panic(err)
		}
		for _, r := range e.Log {
			block = append(append(block, r...), '\n')
			var w struct {
				WindowTitle *string `json:"window_title"`
			}
			if json.Unmarshal(r, &w) == nil && w.WindowTitle != nil {
				titles = append(titles, []byte(*w.WindowTitle))
			}
		}
	}
	return block, titles
}

// BenchmarkJSONPrefilterILIKE measures the raw-NDJSON prefilter for ILIKE
// patterns over generated records (about 5% of lines mention "excel" in
// some case; none contains "confidential").
func BenchmarkJSONPrefilterILIKE(b *testing.B) {
	benchmarkPrefilter(b, Options{IgnoreCase: true}, "%excel%", "%confidential%", "%desktop%", "%社外秘%")
}

// BenchmarkJSONPrefilterLIKE is BenchmarkJSONPrefilterILIKE for
// case-sensitive patterns, Japanese ones among them: in text where
// multibyte characters are common, no single byte of theirs is rare.
func BenchmarkJSONPrefilterLIKE(b *testing.B) {
	benchmarkPrefilter(b, Options{}, "%社外秘%", "%顧客%", "%Excel%", "%confidential%")
}

// BenchmarkJSONPrefilterConjunction measures the prefilter of the
// comparison's three-condition search (operation = 'copy' AND
// removable = true AND file_path LIKE '%顧客%'): three needles, each
// common on its own, the block searched for the rarest.
func BenchmarkJSONPrefilterConjunction(b *testing.B) {
	block, _ := genBlock(20000)
	benchmarkLines(b, NewJSONPrefilterNeedles(Needle{Text: "copy"}, Needle{Text: "true"}, Needle{Text: "顧客"}), block)
}

func benchmarkPrefilter(b *testing.B, o Options, patterns ...string) {
	block, _ := genBlock(20000)
	for _, p := range patterns {
		b.Run(strings.Trim(p, "%"), func(b *testing.B) {
			benchmarkLines(b, MustCompile(p, o).JSONPrefilter(), block)
		})
	}
}

// benchmarkLines scans block for the lines f passes.
func benchmarkLines(b *testing.B, f *JSONPrefilter, block []byte) {
	lines := bytes.Count(block, []byte("\n"))
	b.SetBytes(int64(len(block)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n = 0
		for sc := f.Lines(block); ; {
			if _, _, ok := sc.Next(); !ok {
				break
			}
			n++
		}
	}
	b.ReportMetric(float64(b.N)*float64(lines)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(n)/float64(lines), "passed/line")
}

// BenchmarkMatchWindowTitles measures ILIKE on short values, as on Parquet
// dictionary entries and plain pages.
func BenchmarkMatchWindowTitles(b *testing.B) {
	_, titles := genBlock(20000)
	size := 0
	for _, t := range titles {
		size += len(t)
	}
	for _, p := range []string{"%excel%", "%EXCEL", "excel%", "%社外秘%", "%report%.xlsx%", "%desk_op%"} {
		b.Run(p, func(b *testing.B) {
			m := MustCompile(p, Options{IgnoreCase: true})
			b.SetBytes(int64(size))
			b.ReportAllocs()
			matches := 0
			for b.Loop() {
				for _, s := range titles {
					if m.Match(s) {
						matches++
					}
				}
			}
			sink = matches
			b.ReportMetric(float64(b.N)*float64(len(titles))/b.Elapsed().Seconds(), "records/s")
		})
	}
}
