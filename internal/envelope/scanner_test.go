package envelope

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

var testCfg = Config{TenantField: "tenant_id", TimestampField: "timestamp", LogField: "log", CarryFields: []string{"device_id"}}

// summary is a comparable view of a scan.
type summary struct {
	Kind    Kind
	Problem string
	Tenant  string
	Device  string
	Records []string // raw bytes; problems as "!problem:raw"
	TS      []string
	Carry   []uint64
}

func scanOne(t testing.TB, in string) summary {
	s := New(testCfg)
	b := []byte(in)
	s.Scan(b, SkipSpace(b, 0))
	sum := summary{Kind: s.Kind, Problem: s.Problem.String()}
	if s.Problem == Malformed {
		return sum
	}
	if s.Problem == OK && !s.CheckUTF8() {
		sum.Problem = InvalidUTF8.String()
	}
	if s.Tenant.Present() {
		if s.Tenant.Kind == '"' {
			sum.Tenant = string(s.String(s.Tenant))
		} else {
			sum.Tenant = "<" + string(s.Bytes(s.Tenant)) + ">"
		}
	}
	if s.Carried[0].Present() {
		sum.Device = string(s.Bytes(s.Carried[0]))
	}
	for _, r := range s.Records {
		raw := string(b[r.Start:r.End])
		if r.Problem != OK {
			raw = "!" + r.Problem.String() + ":" + raw
		}
		sum.Records = append(sum.Records, raw)
		ts := ""
		if r.Timestamp.Present() {
			ts = string(b[r.Timestamp.Start:r.Timestamp.End])
		}
		sum.TS = append(sum.TS, ts)
		sum.Carry = append(sum.Carry, r.Carry)
	}
	return sum
}

func TestScan(t *testing.T) {
	huge := `{"tenant_id":"t1","log":[` + strings.Repeat(`{"timestamp":1,"m":"x"},`, 9999) + `{"timestamp":1,"m":"x"}]}`
	tests := []struct {
		name string
		in   string
		want summary
	}{
		{"envelope", `{"tenant_id":"acme","device_id":"d-1","log":[{"timestamp":"2026-11-20T00:00:00Z","a":1},{"b":[1,{"c":2}]}]}`,
			summary{Kind: KindEnvelope, Problem: "ok", Tenant: "acme", Device: `"d-1"`,
				Records: []string{`{"timestamp":"2026-11-20T00:00:00Z","a":1}`, `{"b":[1,{"c":2}]}`},
				TS:      []string{`"2026-11-20T00:00:00Z"`, ""}, Carry: []uint64{0, 0}}},
		{"log first", `{"log":[{"x":1}],"tenant_id":"acme"}`,
			summary{Kind: KindEnvelope, Problem: "ok", Tenant: "acme", Records: []string{`{"x":1}`}, TS: []string{""}, Carry: []uint64{0}}},
		{"escaped quotes and backslashes", `{"tenant_id":"a","log":[{"p":"C:\\Users\\\"q\"\\","timestamp":1}]}`,
			summary{Kind: KindEnvelope, Problem: "ok", Tenant: "a", Records: []string{`{"p":"C:\\Users\\\"q\"\\","timestamp":1}`}, TS: []string{"1"}, Carry: []uint64{0}}},
		{"unicode escape in tenant", `{"tenant_id":"\u0061cme","log":[]}`,
			summary{Kind: KindEnvelope, Problem: "ok", Tenant: "acme"}},
		{"escaped key", `{"tenant\u005fid":"acme","l\u006fg":[{"timest\u0061mp":2}]}`,
			summary{Kind: KindEnvelope, Problem: "ok", Tenant: "acme", Records: []string{`{"timest\u0061mp":2}`}, TS: []string{"2"}, Carry: []uint64{0}}},
		{"surrogates", `{"tenant_id":"a","log":[{"s":"\ud83d\ude00 \ud800"}]}`,
			summary{Kind: KindEnvelope, Problem: "ok", Tenant: "a", Records: []string{`{"s":"\ud83d\ude00 \ud800"}`}, TS: []string{""}, Carry: []uint64{0}}},
		{"empty log", `{"tenant_id":"a","log":[]}`, summary{Kind: KindEnvelope, Problem: "ok", Tenant: "a"}},
		{"empty log with spaces", `{ "tenant_id" : "a" , "log" : [ ] }`, summary{Kind: KindEnvelope, Problem: "ok", Tenant: "a"}},
		{"log not array", `{"tenant_id":"a","log":{"x":1}}`, summary{Kind: KindEnvelope, Problem: "log_not_array", Tenant: "a"}},
		{"log string", `{"tenant_id":"a","log":"hello"}`, summary{Kind: KindEnvelope, Problem: "log_not_array", Tenant: "a"}},
		{"element not object", `{"tenant_id":"a","log":[1,{"x":1},"s"]}`,
			summary{Kind: KindEnvelope, Problem: "ok", Tenant: "a", Records: []string{"!not_object:1", `{"x":1}`, `!not_object:"s"`}, TS: []string{"", "", ""}, Carry: []uint64{0, 0, 0}}},
		{"duplicate tenant same", `{"tenant_id":"a","tenant_id":"\u0061","log":[]}`, summary{Kind: KindEnvelope, Problem: "ok", Tenant: "a"}},
		{"duplicate tenant differs", `{"tenant_id":"a","tenant_id":"b","log":[]}`, summary{Problem: "duplicate_key", Tenant: "b"}},
		{"duplicate log", `{"tenant_id":"a","log":[{"x":1}],"log":[{"y":1}]}`, summary{Problem: "duplicate_key", Tenant: "a", Records: []string{`{"y":1}`}, TS: []string{""}, Carry: []uint64{0}}},
		{"duplicate timestamp last wins", `{"tenant_id":"a","log":[{"timestamp":1,"timestamp":2}]}`,
			summary{Kind: KindEnvelope, Problem: "ok", Tenant: "a", Records: []string{`{"timestamp":1,"timestamp":2}`}, TS: []string{"2"}, Carry: []uint64{0}}},
		{"record tenant conflict", `{"tenant_id":"a","log":[{"tenant_id":"a","tenant_id":"b"}]}`,
			summary{Kind: KindEnvelope, Problem: "ok", Tenant: "a", Records: []string{`!tenant_conflict:{"tenant_id":"a","tenant_id":"b"}`}, TS: []string{""}, Carry: []uint64{0}}},
		{"record carries device", `{"tenant_id":"a","log":[{"device_id":"own"}]}`,
			summary{Kind: KindEnvelope, Problem: "ok", Tenant: "a", Records: []string{`{"device_id":"own"}`}, TS: []string{""}, Carry: []uint64{1}}},
		{"bare record", `{"tenant_id":"a","timestamp":1700000000,"m":"x"}`,
			summary{Kind: KindRecord, Problem: "ok", Tenant: "a", Records: []string{`{"tenant_id":"a","timestamp":1700000000,"m":"x"}`}, TS: []string{"1700000000"}, Carry: []uint64{0}}},
		{"empty object", `{}`, summary{Kind: KindRecord, Problem: "ok", Records: []string{`{}`}, TS: []string{""}, Carry: []uint64{0}}},
		{"nested log is not the envelope's", `{"tenant_id":"a","x":{"log":[1]}}`,
			summary{Kind: KindRecord, Problem: "ok", Tenant: "a", Records: []string{`{"tenant_id":"a","x":{"log":[1]}}`}, TS: []string{""}, Carry: []uint64{0}}},
		{"non-string tenant", `{"tenant_id":12,"log":[]}`, summary{Kind: KindEnvelope, Problem: "ok", Tenant: "<12>"}},
		{"array", `[1,2]`, summary{Problem: "not_object"}},
		{"number", `12`, summary{Problem: "not_object"}},
		{"truncated", `{"tenant_id":"a","log":[{"x":1}`, summary{Problem: "malformed_json"}},
		{"trailing comma", `{"tenant_id":"a","log":[{"x":1},]}`, summary{Problem: "malformed_json"}},
		{"bad escape", `{"tenant_id":"a\x","log":[]}`, summary{Problem: "malformed_json"}},
		{"control char", "{\"tenant_id\":\"a\x01\",\"log\":[]}", summary{Problem: "malformed_json"}},
		{"bad number", `{"tenant_id":"a","log":[{"n":01}]}`, summary{Problem: "malformed_json"}},
		{"bad literal", `{"tenant_id":"a","log":[{"n":tru}]}`, summary{Problem: "malformed_json"}},
		{"too deep", `{"tenant_id":"a","log":[{"n":` + strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1) + `}]}`, summary{Problem: "malformed_json"}},
		{"invalid utf8 in one record", "{\"tenant_id\":\"a\",\"log\":[{\"x\":\"\xff\"},{\"y\":\"ok\"}]}",
			summary{Kind: KindEnvelope, Problem: "ok", Tenant: "a", Records: []string{"!invalid_utf8:{\"x\":\"\xff\"}", `{"y":"ok"}`}, TS: []string{"", ""}, Carry: []uint64{0, 0}}},
		{"invalid utf8 in envelope", "{\"tenant_id\":\"a\",\"d\":\"\xff\",\"log\":[{\"y\":\"ok\"}]}",
			summary{Kind: KindEnvelope, Problem: "invalid_utf8", Tenant: "a", Records: []string{`{"y":"ok"}`}, TS: []string{""}, Carry: []uint64{0}}},
		{"invalid utf8 bare record", "{\"tenant_id\":\"a\",\"d\":\"\xff\"}",
			summary{Kind: KindRecord, Problem: "invalid_utf8", Tenant: "a", Records: []string{"!invalid_utf8:{\"tenant_id\":\"a\",\"d\":\"\xff\"}"}, TS: []string{""}, Carry: []uint64{0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := scanOne(t, tc.in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Scan(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
	t.Run("huge envelope", func(t *testing.T) {
		got := scanOne(t, huge)
		if got.Problem != "ok" || len(got.Records) != 10000 {
			t.Fatalf("got problem %s and %d records, want ok and 10000", got.Problem, len(got.Records))
		}
	})
}

func TestScanStream(t *testing.T) {
	in := []byte("{\"tenant_id\":\"a\",\"log\":[{\"x\":1}]}\n  {\"tenant_id\":\"b\"}{\"tenant_id\":\"c\"}\n\n")
	s := New(testCfg)
	var tenants []string
	for pos := SkipSpace(in, 0); pos < len(in); pos = SkipSpace(in, s.End) {
		s.Scan(in, pos)
		if s.Problem != OK {
			t.Fatalf("problem %v at %d: %s", s.Problem, s.ErrOffset, s.Msg)
		}
		tenants = append(tenants, string(s.String(s.Tenant)))
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, tenants); diff != "" {
		t.Error(diff)
	}
}

func TestParseTime(t *testing.T) {
	all := RFC3339 | EpochSeconds | EpochMillis
	f := func(in string, formats Formats, want string) {
		t.Helper()
		s := New(testCfg)
		b := []byte(`{"timestamp":` + in + `}`)
		s.Scan(b, 0)
		if s.Problem != OK {
			t.Fatalf("%s: %v %s", in, s.Problem, s.Msg)
		}
		sec, ok := s.Time(s.Records[0].Timestamp, formats)
		got := "invalid"
		if ok {
			got = time.Unix(sec, 0).UTC().Format(time.RFC3339)
		}
		if got != want {
			t.Errorf("time %s: got %s, want %s", in, got, want)
		}
	}
	f(`"2026-11-20T09:30:00Z"`, all, "2026-11-20T09:30:00Z")
	f(`"2026-11-20t09:30:00.123456789z"`, all, "2026-11-20T09:30:00Z")
	f(`"2026-11-20T09:30:00+09:00"`, all, "2026-11-20T00:30:00Z")
	f(`"2026-11-20T23:30:00-02:30"`, all, "2026-11-21T02:00:00Z")
	f(`"2026-11-20T09:30:00\u002b09:00"`, all, "2026-11-20T00:30:00Z")
	f(`"2024-02-29T00:00:00Z"`, all, "2024-02-29T00:00:00Z")
	f(`"2026-02-29T00:00:00Z"`, all, "invalid")
	f(`"2026-11-20T09:30:60Z"`, all, "invalid")
	f(`"2026-11-20T09:30:00"`, all, "invalid")
	f(`"2026-11-20 09:30:00Z"`, all, "invalid")
	f(`"2026-11-20T09:30:00.Z"`, all, "invalid")
	f(`"2026-11-20T09:30:00Z"`, EpochSeconds, "invalid")
	f(`1700000000`, all, "2023-11-14T22:13:20Z")
	f(`1700000000.9`, all, "2023-11-14T22:13:20Z")
	f(`1700000000123`, all, "2023-11-14T22:13:20Z")
	f(`1.7e9`, all, "2023-11-14T22:13:20Z")
	f(`-1`, all, "1969-12-31T23:59:59Z")
	f(`-1500`, all, "1969-12-31T23:35:00Z")
	f(`1700000000123`, EpochSeconds, "invalid")
	f(`1700000000`, EpochMillis, "invalid")
	f(`1e30`, all, "invalid")
	f(`true`, all, "invalid")
	f(`null`, all, "invalid")
	// Agreement with the time package.
	for _, s := range []string{"0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "2000-03-01T12:00:00+14:00", "1600-02-29T00:00:00Z"} {
		want, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := ParseRFC3339([]byte(s))
		if !ok || got != want.Unix() {
			t.Errorf("ParseRFC3339(%s) = %d, %v; want %d", s, got, ok, want.Unix())
		}
	}
	for d := int64(-800000); d < 3000000; d += 997 {
		y, m, dd := CivilFromDays(d)
		if back := DaysFromCivil(y, m, dd); back != d {
			t.Fatalf("civil round trip %d -> %d-%d-%d -> %d", d, y, m, dd, back)
		}
		want := time.Unix(d*86400, 0).UTC()
		if int(y) != want.Year() || m != int(want.Month()) || dd != want.Day() {
			t.Fatalf("CivilFromDays(%d) = %d-%d-%d, want %v", d, y, m, dd, want)
		}
	}
}

func TestScanAllocs(t *testing.T) {
	line := []byte(`{"tenant_id":"acme","device_id":"d-1","log":[{"timestamp":"2026-11-20T00:00:00Z","file_path":"C:\\Users\\社外秘.docx","size":12},{"timestamp":1700000000,"n":[1,2,{"a":null}]}]}`)
	s := New(testCfg)
	s.Scan(line, 0) // warm up the reused slices
	allocs := testing.AllocsPerRun(100, func() {
		s.Scan(line, 0)
		s.CheckUTF8()
		for _, r := range s.Records {
			s.Time(r.Timestamp, RFC3339|EpochSeconds)
		}
	})
	if allocs != 0 {
		t.Errorf("Scan allocates %.1f times per envelope, want 0", allocs)
	}
}

// FuzzScan checks that the scanner never panics and, on valid JSON, agrees
// with encoding/json on the tenant and the records it finds.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		`{"tenant_id":"acme","device_id":"d-1","log":[{"timestamp":"2026-11-20T00:00:00Z","a":1},{"b":[1,{"c":2}]}]}`,
		`{"tenant_id":"\u0061cme","log":[{"p":"C:\\x\"y"}]}`,
		`{"tenant_id":"a","log":[]}`,
		`{"tenant_id":"a","log":{}}`,
		`{"tenant_id":"a","tenant_id":"b"}`,
		`{"tenant\u005fid":"a","log":[1,"x",null,true,false,-0.5e+3]}`,
		`{"tenant_id":"a","log":[{"x":"\ud83d\ude00"}],"log":[]}`,
		`{"tenant_id":"a","timestamp":12}`,
		"{\"tenant_id\":\"a\",\"log\":[{\"x\":\"\xff\"}]}",
		`[{"tenant_id":"a"}]`,
		`{"a":{"b":{"c":[[[]]]}}}`,
		` {"tenant_id" : "a" , "log" : [ {"x" : 1 } , { } ] } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		s := New(testCfg)
		pos := SkipSpace(in, 0)
		if pos == len(in) {
			return
		}
		s.Scan(in, pos)
		if s.Problem != Malformed {
			if s.End < pos || s.End > len(in) {
				t.Fatalf("End %d out of range", s.End)
			}
			s.CheckUTF8()
			for _, r := range s.Records {
				if r.Start < pos || r.End > s.End || r.Start >= r.End {
					t.Fatalf("record bounds %d..%d outside value %d..%d", r.Start, r.End, pos, s.End)
				}
				s.Time(r.Timestamp, RFC3339|EpochSeconds|EpochMillis)
			}
		}
		// Agreement with encoding/json on one complete, valid value.
		whole := SkipSpace(in, s.End) == len(in)
		valid := json.Valid(in) && utf8.Valid(in)
		if s.Problem == Malformed {
			if valid && !strings.Contains(s.Msg, "deep") {
				t.Fatalf("scanner says malformed (%s at %d), encoding/json accepts %q", s.Msg, s.ErrOffset, in)
			}
			return
		}
		if !whole {
			return // a stream of values; encoding/json sees one
		}
		if !json.Valid(in) {
			t.Fatalf("scanner accepts %q, encoding/json does not", in)
		}
		if !valid {
			return
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(in, &top); err != nil {
			if s.Problem != NotObject {
				t.Fatalf("not an object for encoding/json (%v), scanner problem %v", err, s.Problem)
			}
			return
		}
		if s.Problem == NotObject {
			t.Fatalf("scanner says not an object: %q", in)
		}
		if raw, ok := top["tenant_id"]; ok && s.Problem != DuplicateKey {
			var want string
			if json.Unmarshal(raw, &want) == nil {
				if s.Tenant.Kind != '"' || string(s.String(s.Tenant)) != want {
					t.Fatalf("tenant: scanner %q, encoding/json %q", s.Bytes(s.Tenant), want)
				}
			} else if s.Tenant.Kind == '"' {
				t.Fatalf("tenant: scanner found a string, encoding/json %s", raw)
			}
		}
		logRaw, isEnv := top["log"]
		if isEnv != (s.Kind == KindEnvelope || s.Problem == DuplicateKey && s.Log.Present()) {
			if !(s.Problem == DuplicateKey) {
				t.Fatalf("envelope: scanner kind %v, encoding/json has log=%v", s.Kind, isEnv)
			}
		}
		if !isEnv || s.Problem != OK {
			return
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(logRaw, &elems); err != nil {
			t.Fatalf("scanner accepted a log array that encoding/json does not: %v", err)
		}
		if len(elems) != len(s.Records) {
			t.Fatalf("records: scanner %d, encoding/json %d", len(s.Records), len(elems))
		}
		for k, e := range elems {
			var want, got bytes.Buffer
			_ = json.Compact(&want, e)
			_ = json.Compact(&got, in[s.Records[k].Start:s.Records[k].End])
			if want.String() != got.String() {
				t.Fatalf("record %d: scanner %s, encoding/json %s", k, got.String(), want.String())
			}
			isObj := bytes.HasPrefix(want.Bytes(), []byte("{"))
			if isObj != (s.Records[k].Problem != NotObject) {
				t.Fatalf("record %d: object=%v, scanner problem %v", k, isObj, s.Records[k].Problem)
			}
		}
	})
}
