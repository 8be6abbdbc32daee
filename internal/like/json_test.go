package like

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"unicode/utf8"
)

// encodings returns NDJSON lines carrying s as a string value, written the
// ways real encoders write it.
func encodings(s string) [][]byte {
	goJSON, _ := json.Marshal(map[string]string{"file_path": s}) // escapes <>&
	var ascii, slashes, allU bytes.Buffer
	ascii.WriteString(`{"file_path":"`)
	slashes.WriteString(`{"file_path":"`)
	allU.WriteString(`{"file_path":"`)
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			ascii.WriteString(`\` + string(r))
			slashes.WriteString(`\` + string(r))
		case r == '/':
			ascii.WriteByte('/')
			slashes.WriteString(`\/`)
		case r < 0x20:
			fmt.Fprintf(&ascii, `\u%04x`, r)
			fmt.Fprintf(&slashes, `\u%04x`, r)
		case r >= utf8.RuneSelf: // Python's ensure_ascii
			for _, u := range utf16(r) {
				fmt.Fprintf(&ascii, `\u%04x`, u)
			}
			slashes.WriteRune(r)
		default:
			ascii.WriteRune(r)
			slashes.WriteRune(r)
		}
		for _, u := range utf16(r) {
			fmt.Fprintf(&allU, `\u%04X`, u)
		}
	}
	for _, b := range []*bytes.Buffer{&ascii, &slashes, &allU} {
		b.WriteString(`"}`)
	}
	return [][]byte{goJSON, ascii.Bytes(), slashes.Bytes(), allU.Bytes()}
}

func utf16(r rune) []rune {
	if r < 0x10000 {
		return []rune{r}
	}
	r -= 0x10000
	return []rune{0xD800 + r>>10, 0xDC00 + r&0x3FF}
}

func TestJSONPrefilter(t *testing.T) {
	tests := []struct {
		name    string
		lits    []string
		line    string
		mayPass bool
	}{
		{"raw hit", []string{"社外秘"}, `{"p":"C:\\社外秘\\a"}`, true},
		{"raw miss", []string{"社外秘"}, `{"p":"C:\\社外\\a"}`, false},
		{"unicode escape", []string{"社外秘"}, `{"p":"\u793e\u5916\u79d8"}`, true},
		{"unrelated escape", []string{"社外秘"}, `{"p":"a \u0026 b"}`, false},
		{"escaped backslash then u", []string{"社外秘"}, `{"p":"C:\\users\\x"}`, false},
		{"three backslashes then u", []string{"社"}, `{"p":"C:\\\u793e"}`, true},
		{"backslash literal", []string{`\社外秘\`}, `{"p":"C:\\社外秘\\a"}`, true},
		{"backslash literal miss", []string{`\社外秘\`}, `{"p":"C:/社外秘/a"}`, false},
		{"quote literal", []string{`say "hi"`}, `{"m":"they say \"hi\""}`, true},
		{"slash escape", []string{"a/b"}, `{"m":"a\/b"}`, true},
		{"slash escape irrelevant", []string{"ab"}, `{"m":"a\/b"}`, false},
		{"surrogates", []string{"😀"}, `{"m":"\ud83d\ude00"}`, true},
		{"malformed u", []string{"q"}, `{"m":"\uZZ"}`, true},
		{"all literals needed", []string{"abc", "xyz"}, `{"m":"abc"}`, false},
		{"all literals present", []string{"abc", "xyz"}, `{"m":"xyz abc"}`, true},
		{"no literals", nil, `{}`, true},
		{"control char literal", []string{"a\nb"}, `{}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewJSONPrefilter(tt.lits...)
			if got := f.MayMatch([]byte(tt.line)); got != tt.mayPass {
				t.Errorf("MayMatch(%s) = %v, want %v", tt.line, got, tt.mayPass)
			}
			block := []byte("{\"x\":1}\n" + tt.line + "\n{\"y\":2}")
			sc := f.Lines(block)
			s, e, ok := sc.Next()
			if tt.mayPass && !f.PassesAll() {
				if !ok || string(block[s:e]) != tt.line {
					t.Errorf("Next = %d,%d,%v (%q), want the line", s, e, ok, block[s:e])
				}
			}
			if !tt.mayPass && ok {
				t.Errorf("Next found %q", block[s:e])
			}
		})
	}
}

func TestJSONPrefilterNeedles(t *testing.T) {
	excel := []Needle{{"excel", true}}
	desk := []Needle{{"desk", true}}
	tests := []struct {
		name    string
		needles []Needle
		line    string
		mayPass bool
	}{
		{"any case", excel, `{"t":"月次.xlsx - EXCEL"}`, true},
		{"mixed case", excel, `{"t":"eXcEl"}`, true},
		{"miss", excel, `{"t":"月次.docx - Word"}`, false},
		{"exact needle stays exact", []Needle{{"excel", false}}, `{"t":"Excel"}`, false},
		{"upper-case escape", excel, `{"t":"\u0045xcel"}`, true},
		{"lower-case escape", excel, `{"t":"\u0065xcel"}`, true},
		{"unrelated escape", excel, `{"t":"a \u0026 b"}`, false},
		{"non-letter not folded", []Needle{{"a{", true}}, `{"t":"A["}`, false},
		{"quote in needle", []Needle{{`say "HI"`, true}}, `{"m":"Say \"hi\""}`, true},
		{"raw kelvin sign", desk, "{\"t\":\"DES\u212a\"}", true},
		{"escaped kelvin sign", desk, `{"t":"DES\u212A"}`, true},
		{"raw long s", desk, "{\"t\":\"DE\u017fK\"}", true},
		{"kelvin sign without k", excel, "{\"t\":\"\u212a\"}", false},
		{"no k no s", desk, `{"t":"DESX"}`, false},
		{"two needles", []Needle{{"excel", true}, {"社外秘", false}}, `{"t":"【社外秘】a - Excel"}`, true},
		{"two needles one missing", []Needle{{"excel", true}, {"社外秘", false}}, `{"t":"a - Excel"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewJSONPrefilterNeedles(tt.needles...)
			if got := f.MayMatch([]byte(tt.line)); got != tt.mayPass {
				t.Errorf("MayMatch(%s) = %v, want %v", tt.line, got, tt.mayPass)
			}
			block := []byte("{\"x\":1}\n" + tt.line + "\n{\"y\":2}")
			sc := f.Lines(block)
			s, e, ok := sc.Next()
			if tt.mayPass && (!ok || string(block[s:e]) != tt.line) {
				t.Errorf("Next = %d,%d,%v, want the line", s, e, ok)
			}
			if !tt.mayPass && ok {
				t.Errorf("Next found %q", block[s:e])
			}
		})
	}
}

// TestJSONPrefilterILIKEWalk scans generated records for ILIKE patterns:
// every line with a string value that matches must be reported, and the
// prefilter must reject most others.
func TestJSONPrefilterILIKEWalk(t *testing.T) {
	block, _ := genBlock(3000)
	lines := bytes.Split(bytes.TrimSuffix(block, []byte("\n")), []byte("\n"))
	for _, p := range []string{"%excel%", "%EXCEL.exe", "%desktop%", "%.XLSX%", "%社外秘%", "%word"} {
		m := MustCompile(p, Options{IgnoreCase: true})
		f := m.JSONPrefilter()
		reported := map[int]bool{}
		for sc := f.Lines(block); ; {
			s, _, ok := sc.Next()
			if !ok {
				break
			}
			reported[bytes.Count(block[:s], []byte("\n"))] = true
		}
		matching := 0
		for i, line := range lines {
			var rec map[string]any
			if err := json.Unmarshal(line, &rec); err != nil {
				t.Fatal(err)
			}
			for _, v := range rec {
				if s, ok := v.(string); ok && m.MatchString(s) {
					matching++
					if !reported[i] {
						t.Errorf("%q: line %d (%s) not reported", p, i, line)
					}
					break
				}
			}
		}
		if matching == 0 {
			t.Errorf("%q matches nothing: a useless test", p)
		}
		if len(reported) > 2*matching+len(lines)/10 {
			t.Errorf("%q: %d lines reported for %d matching", p, len(reported), matching)
		}
	}
}

func TestJSONPrefilterNextLineWalk(t *testing.T) {
	var block []byte
	var want []int
	for i := range 1000 {
		p := fmt.Sprintf(`C:\users\u%d\Documents\report-%d.xlsx`, i, i)
		if i%97 == 0 {
			p = fmt.Sprintf(`C:\Users\u%d\社外秘\plan-%d.docx`, i, i)
			want = append(want, i)
		}
		if i%101 == 50 { // a real escape of a literal character: must pass
			p = fmt.Sprintf("社外 %d 秘", i)
			want = append(want, i)
		}
		line := encodings(p)[i%4]
		block = append(block, line...)
		block = append(block, '\n')
	}
	f := MustCompile("%社外秘%", Options{}).JSONPrefilter()
	var got []int
	for sc := f.Lines(block); ; {
		s, _, ok := sc.Next()
		if !ok {
			break
		}
		got = append(got, bytes.Count(block[:s], []byte("\n")))
	}
	// Every matching line must be reported; the \u-escaped non-matches at
	// i%101 are allowed false positives, as are lines encoded with \u.
	have := map[int]bool{}
	for _, i := range got {
		have[i] = true
	}
	for _, i := range want {
		if i%97 == 0 && !have[i] {
			t.Errorf("line %d (a match) not reported", i)
		}
	}
	if len(got) > 1000/4+30 {
		t.Errorf("%d lines reported; the prefilter filters almost nothing", len(got))
	}
}

func FuzzJSONPrefilter(f *testing.F) {
	f.Add("C:\\Users\\社外秘\\a.docx", "%社外秘%", false)
	f.Add(`say "hi" </b> & a/b`, `%"hi" </b> & a/%`, false)
	f.Add("x😀y", "%😀%", true)
	f.Add("月次報告書.xlsx - EXCEL", "%excel%", true)
	f.Add("DES\u212a top", "%desk%", true)
	f.Add("\u017fTOP <&>/", "%s_o%/%", true)
	f.Add(`C:\Users\"Excel"`, `%\"exc%`, true)
	// Whole values, as the needles of col = 'text' equalities.
	f.Add("copy", "copy", false)
	f.Add(`a"b\c/d`, `a"b\c/d`, false)
	f.Add("顧客", "顧客", false)
	f.Fuzz(func(t *testing.T, s, pattern string, ignoreCase bool) {
		m, err := Compile(pattern, Options{IgnoreCase: ignoreCase})
		if err != nil || !utf8.ValidString(s) {
			return
		}
		if !m.MatchString(s) {
			return
		}
		p := m.JSONPrefilter()
		for _, line := range encodings(s) {
			if !p.MayMatch(line) {
				t.Fatalf("MayMatch(%s) = false for a value matching %q", line, pattern)
			}
			// A short block, and one long enough for the searches of
			// long blocks (see pairSearchMin).
			for _, pad := range []int{1, pairSearchMin/3 + 1} {
				block := append(append(bytes.Repeat([]byte("{}\n"), pad), line...), "\n{}"...)
				sc := p.Lines(block)
				st, e, ok := sc.Next()
				for ok && !bytes.Equal(block[st:e], line) {
					st, e, ok = sc.Next()
				}
				if !ok {
					t.Fatalf("Lines skipped %s matching %q (block of %d bytes)", line, pattern, len(block))
				}
			}
		}
	})
}

func TestLineScannerAllocs(t *testing.T) {
	block := []byte("{\"p\":\"C:\\\\users\\\\a\"}\n{\"p\":\"社外秘\"}\n{\"p\":\"\\u793e\"}\n")
	f := NewJSONPrefilter("社外秘")
	n := testing.AllocsPerRun(100, func() {
		for sc := f.Lines(block); ; {
			if _, _, ok := sc.Next(); !ok {
				break
			}
		}
		f.MayMatch(block)
	})
	if n != 0 {
		t.Errorf("%v allocs per block scan, want 0", n)
	}
}

// TestLinesSeveralLiterals checks that with several literals the scanner
// reports exactly the lines MayMatch passes, whichever literal it drives
// the search with, and that it drives it with the rarest one.
func TestLinesSeveralLiterals(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 2))
	pieces := []string{`"removable":true`, `"removable":false`, `顧客`, `"copy"`, `"move"`, `\u9867\u5ba2`, `C:\\Users\\a`, `x`}
	for round := range 200 {
		var block []byte
		for range 1 + r.IntN(400) {
			block = append(block, '{')
			for range r.IntN(6) {
				block = append(block, pieces[r.IntN(len(pieces))]...)
			}
			block = append(block, "}\n"...)
		}
		lits := [][]string{{`"removable":true`, "顧客"}, {"顧客", `"copy"`, `"removable":true`}, {`"move"`, "x"}}[round%3]
		f := NewJSONPrefilter(lits...)
		var want [][2]int
		for at := 0; at < len(block); {
			end := at + bytes.IndexByte(block[at:], '\n')
			if f.MayMatch(block[at:end]) {
				want = append(want, [2]int{at, end})
			}
			at = end + 1
		}
		var got [][2]int
		sc := f.Lines(block)
		for {
			st, e, ok := sc.Next()
			if !ok {
				break
			}
			got = append(got, [2]int{st, e})
		}
		if !slices.Equal(got, want) {
			t.Fatalf("round %d, literals %q: lines %v, want %v", round, lits, got, want)
		}
	}
	// "report!" is the longest literal but the most frequent.
	var block []byte
	for i := range 2000 {
		line := `{"p":"report!"}`
		if i%100 == 0 {
			line = `{"p":"report! 顧客"}`
		}
		block = append(append(block, line...), '\n')
	}
	f := NewJSONPrefilter("report!", "顧客")
	sc := f.Lines(block)
	if got := string(f.lits[sc.drive].lo); got != "顧客" {
		t.Errorf("the scanner searches for %q, want the rarer 顧客", got)
	}
}
