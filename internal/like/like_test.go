package like

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestMatch(t *testing.T) {
	f := func(pattern string, opts Options, subject string, want bool) {
		t.Helper()
		m, err := Compile(pattern, opts)
		if err != nil {
			t.Fatalf("Compile(%q, %+v): %v", pattern, opts, err)
		}
		if got := m.MatchString(subject); got != want {
			t.Errorf("%q %+v MatchString(%q) = %v, want %v", pattern, opts, subject, got, want)
		}
		if got := m.Match([]byte(subject)); got != want {
			t.Errorf("%q %+v Match(%q) = %v, want %v", pattern, opts, subject, got, want)
		}
	}
	cs := Options{}
	ci := Options{IgnoreCase: true}
	bs := Options{Escape: '\\'}

	// Empty pattern and '%'.
	f("", cs, "", true)
	f("", cs, "a", false)
	f("%", cs, "", true)
	f("%", cs, "anything", true)
	f("%%%", cs, "", true)
	// Exact, prefix, suffix, infix.
	f("abc", cs, "abc", true)
	f("abc", cs, "abcd", false)
	f("abc", cs, "ABC", false)
	f("abc%", cs, "abcdef", true)
	f("abc%", cs, "xabc", false)
	f("%abc", cs, "xxabc", true)
	f("%abc", cs, "abcx", false)
	f("%社外秘%", cs, `C:\Users\a\社外秘\x.docx`, true)
	f("%社外秘%", cs, `C:\Users\a\社外\x.docx`, false)
	f("a%c", cs, "ac", true)
	f("a%c", cs, "abbbc", true)
	f("a%c", cs, "abbbcd", false)
	f("a%b%c", cs, "aXbYc", true)
	f("a%b%c", cs, "acb", false)
	f("%a%a%", cs, "ba", false)
	f("%a%a%", cs, "baba", true)
	f("ab%ba", cs, "aba", false) // the two segments may not overlap
	f("ab%ba", cs, "abba", true)
	// '_' is one code point.
	f("_", cs, "a", true)
	f("_", cs, "é", true)
	f("_", cs, "社", true)
	f("_", cs, "", false)
	f("_", cs, "ab", false)
	f("__", cs, "社外", true)
	f("a_c", cs, "a社c", true)
	f("a_c", cs, "a社外c", false)
	f("%_", cs, "", false)
	f("%_", cs, "x", true)
	f("_%_", cs, "x", false)
	f("_%_", cs, "xy", true)
	f("%_秘", cs, "社外秘", true)
	f("%_秘", cs, "秘", false)
	f("%a_b%", cs, "xxa社bxx", true)
	f("%a_b%", cs, "xxabxx", false)
	f("%a_b", cs, "zza1bza2b", true)
	f("%a_b", cs, "zza1bza2bz", false)
	f("%a__", cs, "aaa", true)
	// Invalid UTF-8 bytes are single characters for '_' and '%'.
	f("_", cs, "\xff", true)
	f("__", cs, "\xe2\x82", true) // truncated sequence: two characters
	f("_", cs, "\xe2\x82", false)
	f("%\uFFFD%", cs, "\xff", false)
	f("a%", cs, "a\xff\xfe", true)
	// Escapes.
	f(`100\%`, bs, "100%", true)
	f(`100\%`, bs, "1000", false)
	f(`a\_b`, bs, "a_b", true)
	f(`a\_b`, bs, "axb", false)
	f(`a\\b`, bs, `a\b`, true)
	f(`%\%%`, bs, "50% off", true)
	f(`%\%%`, bs, "50 off", false)
	f("a#%", Options{Escape: '#'}, "a%", true)
	f("a##", Options{Escape: '#'}, "a#", true)
	f("a%%", Options{Escape: '%'}, "a%", true)
	f("a%%", Options{Escape: '%'}, "ab", false)
	f(`C:\Users%`, cs, `C:\Users\x`, true) // no ESCAPE: '\' is a plain character
	// ILIKE.
	f("%abc%", ci, "xxABCxx", true)
	f("%abc%", ci, "xxAbxx", false)
	f("abc", ci, "aBc", true)
	f("k", ci, "\u212a", true) // Kelvin sign
	f("\u212a", ci, "k", true)
	f("%straße%", ci, "STRASSE", false) // simple folding only
	f("%straße%", ci, "STRAẞE", true)
	f("%é%", ci, "É", true)
	f("%社外秘%", ci, "社外秘", true)
	f("%docx", ci, `a\社外秘.DOCX`, true)
	f("%社外秘%.DOCX", ci, `a\社外秘\b.docx`, true)
	f("%社外秘_.DOCX", ci, `a\社外秘\b.docx`, false)
	f("a_C", ci, "A社c", true)
	f("%\uFFFD%", ci, "\xff", false)
	f("%a%", ci, "\xffA", true)
	// ILIKE with ASCII letters: the ASCII fast paths and their fallback
	// for subjects with U+212A KELVIN SIGN or U+017F LONG S.
	f("excel", ci, "eXCEL", true)
	f("excel", ci, "eXCELs", false)
	f("excel%", ci, "EXCEL.EXE", true)
	f("excel%", ci, "EXCE", false)
	f("%excel", ci, "月次報告書.xlsx - Excel", true)
	f("%excel", ci, "Excel - 月次報告書.xlsx", false)
	f("%excel%", ci, "a - EXCEL b", true)
	f("%excel%", ci, "a - EXCE b", false)
	f("%a{%", ci, "xA[", false) // '[' | 0x20 == '{', but '{' has no case
	f("%a{%", ci, "xA{", true)
	f("%x_l%", ci, "aX社Lb", true)
	f("%x_l%", ci, "aX社外Lb", false)
	f("%report%.XLSX%", ci, "Report 1.xlsx - Excel", true)
	f("%report%.XLSX%", ci, "Report 1.xls - Excel", false)
	f("%desk%", ci, "DES\u212a", true)
	f("%desk%", ci, "DE\u017fK", true)
	f("%desk%", ci, "DE\u017f\u212a", true)
	f("%desk%", ci, "DESX", false)
	f("%desk%", ci, "\u212aDESX", false)
	f("desk", ci, "DES\u212a", true)
	f("d_sk", ci, "Dé\u017f\u212a", true)
	f("%excel%", ci, "\u212a EXCEL", true)
	f("%\u212aelvin%", ci, "KELVIN", true)
	f("%\u212aelvin%", ci, "\u212aELVIN", true)
	f("%Ж%", ci, "xжy", true)
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		opts    Options
		want    error
	}{
		{"escape at end", `abc\`, Options{Escape: '\\'}, ErrInvalidPattern},
		{"escape before letter", `a\bc`, Options{Escape: '\\'}, ErrInvalidPattern},
		{"escape alone", `#`, Options{Escape: '#'}, ErrInvalidPattern},
		{"invalid UTF-8", "a\xffb", Options{}, ErrInvalidPattern},
		{"invalid escape rune", "a", Options{Escape: -1}, ErrInvalidPattern},
		{"too long", strings.Repeat("%a", MaxPatternLen/2+1), Options{}, ErrPatternTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.pattern, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Compile(%q) error = %v, want %v", tt.pattern, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "like: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	if _, err := Compile(strings.Repeat("a", MaxPatternLen), Options{}); err != nil {
		t.Errorf("pattern of exactly MaxPatternLen bytes: %v", err)
	}
}

func TestRequiredLiterals(t *testing.T) {
	tests := []struct {
		pattern string
		opts    Options
		want    []string
	}{
		{"%", Options{}, nil},
		{"%社外秘%", Options{}, []string{"社外秘"}},
		{"a%b_c%", Options{}, []string{"a", "b", "c"}},
		{`%\%%`, Options{Escape: '\\'}, []string{"%"}},
		{"%abc%", Options{IgnoreCase: true}, nil},
		{"%社外秘%", Options{IgnoreCase: true}, []string{"社外秘"}},
		{`%\社外秘\a.DOCX`, Options{IgnoreCase: true}, []string{`\社外秘\`, "."}},
	}
	for _, tt := range tests {
		got := MustCompile(tt.pattern, tt.opts).RequiredLiterals()
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("RequiredLiterals(%q) mismatch (-want +got):\n%s", tt.pattern, diff)
		}
	}
}

// TestLinearTime guards against backtracking: these would take ages with
// a naive backtracking matcher. The test asserts no time, only that it ends.
func TestLinearTime(t *testing.T) {
	subject := strings.Repeat("a", 100_000)
	for _, p := range []string{
		strings.Repeat("%a", 200) + "%b",
		strings.Repeat("%_", 200) + "b",
		"%" + strings.Repeat("a", 300) + "b%",
		"%" + strings.Repeat("a_", 100) + "b%",
	} {
		for _, ci := range []bool{false, true} {
			if MustCompile(p, Options{IgnoreCase: ci}).MatchString(subject) {
				t.Errorf("%.20q… matched", p)
			}
		}
	}
}

func TestMatchAllocs(t *testing.T) {
	subject := []byte(`C:\Users\tanaka\Documents\プロジェクト\2024\社外秘\見積書_最終版.docx`)
	for _, p := range []string{"%社外秘%", "%社外秘%.docx", "C:%", "%.DOCX", "%a_b%", "%tanaka%"} {
		for _, ci := range []bool{false, true} {
			m := MustCompile(p, Options{IgnoreCase: ci})
			if n := testing.AllocsPerRun(100, func() { m.Match(subject); m.MatchString("abc") }); n != 0 {
				t.Errorf("%q ignoreCase=%v: %v allocs per Match, want 0", p, ci, n)
			}
		}
	}
}

// toRegexp translates a LIKE pattern to an anchored regexp, independently of
// Compile's tokeniser. ok is false for invalid escapes.
func toRegexp(pattern string, opts Options) (string, bool) {
	var b strings.Builder
	b.WriteString("^(?s)")
	if opts.IgnoreCase {
		b.WriteString("(?i)")
	}
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case opts.Escape != 0 && r == opts.Escape:
			if i+1 >= len(rs) {
				return "", false
			}
			n := rs[i+1]
			if n != '%' && n != '_' && n != opts.Escape {
				return "", false
			}
			i++
			b.WriteString(regexp.QuoteMeta(string(n)))
		case r == '%':
			b.WriteString(".*")
		case r == '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return b.String(), true
}

func FuzzMatchVsRegexp(f *testing.F) {
	for _, s := range [][3]string{
		{"%社外秘%", `C:\Users\a\社外秘\x.docx`, ""},
		{"a%b_c", "aXXbYc", ""},
		{`%\%%`, "50%", `\`},
		{"%ab%ba%", "xabax", ""},
		{"_%_", "\xff\xfe", ""},
		{"%K%", "\u212a", ""},
		{"%desk%", "DES\u212a", ""},
		{"%ſtop_x%", "STOP\u212aX", ""},
		{"%excel%", "月次報告書.xlsx - EXCEL", ""},
		{"%a[%", "A{", ""},
		{"a__%", "a\xe2\x82", ""},
		{"%é_", "xÉy", ""},
		{"#%#_##", "%_#", "#"},
	} {
		f.Add(s[0], s[1], s[2], false)
		f.Add(s[0], s[1], s[2], true)
	}
	f.Fuzz(func(t *testing.T, pattern, subject, escape string, ignoreCase bool) {
		opts := Options{IgnoreCase: ignoreCase}
		if escape != "" {
			r, n := utf8.DecodeRuneInString(escape)
			if n != len(escape) || r == utf8.RuneError {
				return
			}
			opts.Escape = r
		}
		m, err := Compile(pattern, opts)
		expr, ok := toRegexp(pattern, opts)
		switch {
		case len(pattern) > MaxPatternLen || !utf8.ValidString(pattern):
			if err == nil {
				t.Fatalf("Compile(%q) accepted an invalid pattern", pattern)
			}
			return
		case !ok:
			if err == nil {
				t.Fatalf("Compile(%q, %q) accepted a malformed escape", pattern, escape)
			}
			return
		case err != nil:
			t.Fatalf("Compile(%q, %q): %v", pattern, escape, err)
		}
		got := m.MatchString(subject)
		if m.Match([]byte(subject)) != got {
			t.Fatalf("Match and MatchString disagree")
		}
		// Go regexp lets an invalid byte match a literal U+FFFD; Match never
		// does (documented on Matcher). Compare only where both agree on
		// what an invalid byte is.
		if !utf8.ValidString(subject) && strings.ContainsRune(pattern, utf8.RuneError) {
			return
		}
		want := regexp.MustCompile(expr).MatchString(subject)
		if got != want {
			t.Fatalf("pattern %q (escape %q, ignoreCase %v) on %q: got %v, regexp %s says %v", pattern, escape, ignoreCase, subject, got, expr, want)
		}
	})
}
