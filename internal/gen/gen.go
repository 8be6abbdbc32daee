// Package gen generates realistic PC operation logs — application launches,
// window titles, web access and file operations from many tenants — as the
// JSON envelopes clients upload. Examples, tests and benchmarks share it, so
// every measurement runs on the same kind of data. Output is deterministic
// for a given Config.
package gen

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// Secret is the keyword that a fraction of file paths and window titles
// contain ("confidential, internal only"); searches look for it.
const Secret = "社外秘"

// Config shapes the generated data. The zero value works.
type Config struct {
	// Seed makes the output reproducible. Default: 1.
	Seed uint64
	// Tenants is the number of tenants. Their sizes are skewed (Zipf-like):
	// tenant 0 is the largest. Default: 8.
	Tenants int
	// Days is the number of days the records spread over, ending at End.
	// Default: 3.
	Days int
	// End is the last day's date (UTC). Default: 2026-11-20.
	End time.Time
	// DevicesPerTenant is the number of PCs per tenant. Default: 50.
	DevicesPerTenant int
	// RecordsPerEnvelope is the mean number of records per envelope
	// (the actual number varies from 1 to twice the mean). Default: 50.
	RecordsPerEnvelope int
	// SecretRate is the fraction of file and window records that mention
	// [Secret]. Default: 0.01. Negative: none.
	SecretRate float64
}

func (c Config) withDefaults() Config {
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Tenants <= 0 {
		c.Tenants = 8
	}
	if c.Days <= 0 {
		c.Days = 3
	}
	if c.End.IsZero() {
		c.End = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	}
	if c.DevicesPerTenant <= 0 {
		c.DevicesPerTenant = 50
	}
	if c.RecordsPerEnvelope <= 0 {
		c.RecordsPerEnvelope = 50
	}
	if c.SecretRate == 0 {
		c.SecretRate = 0.01
	}
	return c
}

// Generator produces envelopes. It is not safe for concurrent use.
type Generator struct {
	cfg     Config
	rng     *rand.Rand
	cum     []float64 // cumulative tenant weights
	tenants []string
	start   int64 // unix seconds of the first day's start
	span    int64 // seconds covered
	// Counts of what was generated so far.
	Records     int
	Envelopes   int
	Secrets     int // records that contain Secret
	SecretPaths int // file records whose file_path contains Secret
}

// New returns a generator for cfg.
func New(cfg Config) *Generator {
	cfg = cfg.withDefaults()
	g := &Generator{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	total := 0.0
	for i := 0; i < cfg.Tenants; i++ {
		total += 1 / math.Pow(float64(i+1), 1.1)
		g.cum = append(g.cum, total)
		g.tenants = append(g.tenants, TenantName(i))
	}
	for i := range g.cum {
		g.cum[i] /= total
	}
	end := time.Date(cfg.End.Year(), cfg.End.Month(), cfg.End.Day(), 0, 0, 0, 0, time.UTC)
	g.start = end.AddDate(0, 0, -(cfg.Days - 1)).Unix()
	g.span = int64(cfg.Days) * 86400
	return g
}

// TenantName returns the name of tenant i: "tenant-000", "tenant-001", …
func TenantName(i int) string {
	s := strconv.Itoa(i)
	for len(s) < 3 {
		s = "0" + s
	}
	return "tenant-" + s
}

// Tenants returns the tenant names, largest first.
func (g *Generator) Tenants() []string { return g.tenants }

func (g *Generator) pickTenant() int {
	x := g.rng.Float64()
	for i, c := range g.cum {
		if x < c {
			return i
		}
	}
	return len(g.cum) - 1
}

var (
	users   = []string{"tanaka", "suzuki", "sato", "takahashi", "watanabe", "ito", "yamamoto", "nakamura", "kobayashi", "kato"}
	apps    = []string{"EXCEL.EXE", "WINWORD.EXE", "POWERPNT.EXE", "chrome.exe", "msedge.exe", "Teams.exe", "explorer.exe", "OUTLOOK.EXE", "slack.exe", "Code.exe"}
	titles  = []string{"月次報告書.xlsx - Excel", "議事録_営業会議.docx - Word", "受信トレイ - Outlook", "プロジェクト計画.pptx - PowerPoint", "Google 検索 - Google Chrome", "経費精算 - Microsoft Edge", "チャット | Microsoft Teams", "エクスプローラー", "顧客一覧.xlsx - Excel", "設計書 v2.docx - Word"}
	hosts   = []string{"www.google.com", "mail.example.co.jp", "intra.example.local", "github.com", "docs.example.com", "news.yahoo.co.jp", "drive.example.com", "login.microsoftonline.com"}
	dirs    = []string{"Documents", "Desktop", "Downloads", "OneDrive - 株式会社サンプル", "共有フォルダ", "Projects"}
	subdirs = []string{"営業部", "経理部", "人事部", "開発部", "2026年度", "顧客資料", "見積書", "契約書", "会議資料", "アーカイブ", "プロジェクトA", "プロジェクトB"}
	files   = []string{"月次報告書", "顧客一覧", "見積書_最終版", "契約書ドラフト", "議事録", "設計書", "売上集計", "人事評価シート", "提案資料", "予算案"}
	exts    = []string{".xlsx", ".docx", ".pptx", ".pdf", ".csv", ".txt", ".zip"}
	ops     = []string{"open", "write", "copy", "move", "delete", "rename"}
	logType = []string{"app", "window", "web", "file", "file", "file"}
)

func (g *Generator) pick(s []string) string { return s[g.rng.IntN(len(s))] }

// AppendEnvelope appends one envelope — {"tenant_id":…,"device_id":…,
// "log":[…]} — to dst, and returns the extended slice and the number of
// records in it.
func (g *Generator) AppendEnvelope(dst []byte) ([]byte, int) {
	t := g.pickTenant()
	n := 1 + g.rng.IntN(2*g.cfg.RecordsPerEnvelope)
	dst = append(dst, `{"tenant_id":"`...)
	dst = append(dst, g.tenants[t]...)
	dst = append(dst, `","device_id":"pc-`...)
	dst = strconv.AppendInt(dst, int64(g.rng.IntN(g.cfg.DevicesPerTenant)), 10)
	dst = append(dst, `","agent_version":"4.2.`...)
	dst = strconv.AppendInt(dst, int64(g.rng.IntN(10)), 10)
	dst = append(dst, `","log":[`...)
	// An envelope holds records of a short stretch of time, as a client
	// uploads every few minutes; some straddle midnight.
	base := g.start + g.rng.Int64N(g.span)
	for i := 0; i < n; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = g.appendRecord(dst, base+int64(i)*3)
	}
	dst = append(dst, "]}"...)
	g.Records += n
	g.Envelopes++
	return dst, n
}

// AppendNDJSON appends envelopes, one per line, until at least records
// records were generated, and returns the extended slice and the exact
// number of records.
func (g *Generator) AppendNDJSON(dst []byte, records int) ([]byte, int) {
	total := 0
	for total < records {
		var n int
		dst, n = g.AppendEnvelope(dst)
		dst = append(dst, '\n')
		total += n
	}
	return dst, total
}

func (g *Generator) appendRecord(dst []byte, unix int64) []byte {
	ts := time.Unix(unix, int64(g.rng.IntN(1000))*int64(time.Millisecond)).UTC()
	kind := g.pick(logType)
	dst = append(dst, `{"timestamp":"`...)
	dst = ts.AppendFormat(dst, "2006-01-02T15:04:05.000Z")
	dst = append(dst, `","log_type":"`...)
	dst = append(dst, kind...)
	dst = append(dst, `","user":"`...)
	dst = append(dst, g.pick(users)...)
	dst = append(dst, '"')
	secret := g.cfg.SecretRate > 0 && g.rng.Float64() < g.cfg.SecretRate
	switch kind {
	case "app":
		dst = append(dst, `,"app":"`...)
		dst = append(dst, g.pick(apps)...)
		dst = append(dst, `","pid":`...)
		dst = strconv.AppendInt(dst, int64(1000+g.rng.IntN(60000)), 10)
		secret = false
	case "window":
		dst = append(dst, `,"app":"`...)
		dst = append(dst, g.pick(apps)...)
		dst = append(dst, `","window_title":"`...)
		if secret {
			dst = append(dst, "【"+Secret+"】"...)
		}
		dst = append(dst, g.pick(titles)...)
		dst = append(dst, '"')
	case "web":
		dst = append(dst, `,"url":"https://`...)
		dst = append(dst, g.pick(hosts)...)
		dst = append(dst, "/path/"...)
		dst = strconv.AppendInt(dst, int64(g.rng.IntN(100000)), 10)
		dst = append(dst, `?q=`...)
		dst = strconv.AppendInt(dst, int64(g.rng.IntN(1000)), 36)
		dst = append(dst, `","bytes":`...)
		dst = strconv.AppendInt(dst, int64(g.rng.IntN(5_000_000)), 10)
		secret = false
	case "file":
		dst = append(dst, `,"operation":"`...)
		dst = append(dst, g.pick(ops)...)
		dst = append(dst, `","file_path":"`...)
		dst = g.appendPath(dst, secret)
		if secret {
			g.SecretPaths++
		}
		dst = append(dst, `","size":`...)
		dst = strconv.AppendInt(dst, int64(g.rng.IntN(50_000_000)), 10)
		if g.rng.IntN(4) == 0 {
			dst = append(dst, `,"removable":true`...)
		}
	}
	if secret {
		g.Secrets++
	}
	return append(dst, '}')
}

// appendPath appends a JSON-escaped Windows path of up to 255 characters.
func (g *Generator) appendPath(dst []byte, secret bool) []byte {
	start := len(dst)
	dst = append(dst, `C:\\Users\\`...)
	dst = append(dst, g.pick(users)...)
	dst = append(dst, `\\`...)
	dst = append(dst, g.pick(dirs)...)
	depth := 1 + g.rng.IntN(8)
	at := -1
	if secret {
		at = g.rng.IntN(depth + 1)
	}
	for i := 0; i < depth; i++ {
		dst = append(dst, `\\`...)
		if i == at {
			dst = append(dst, Secret+"_"...)
		}
		dst = append(dst, g.pick(subdirs)...)
	}
	dst = append(dst, `\\`...)
	if at == depth {
		dst = append(dst, "【"+Secret+"】"...)
	}
	dst = append(dst, g.pick(files)...)
	dst = append(dst, '_')
	dst = strconv.AppendInt(dst, int64(g.rng.IntN(1000)), 10)
	dst = append(dst, g.pick(exts)...)
	// Keep within 255 characters (runes), as Windows MAX_PATH does; trim
	// directories from the middle if needed — rare with these parts.
	if n := runeCount(dst[start:]); n > 255 {
		dst = dst[:start]
		dst = append(dst, `C:\\Users\\`...)
		dst = append(dst, g.pick(users)...)
		dst = append(dst, `\\Documents\\`...)
		if secret {
			dst = append(dst, Secret+"_"...)
		}
		dst = append(dst, "資料.docx"...)
	}
	return dst
}

func runeCount(b []byte) int {
	n := 0
	for _, c := range b {
		if c&0xC0 != 0x80 {
			n++
		}
	}
	return n
}
