package like_test

import (
	"fmt"

	"github.com/loglake/loglake/internal/like"
)

// An ILIKE pattern gives a case-insensitive needle that the prefilter
// searches in raw NDJSON before any JSON is parsed.
func ExampleMatcher_Needles() {
	m := like.MustCompile("%Excel%", like.Options{IgnoreCase: true})
	fmt.Println(m.Needles())
	block := []byte(`{"window_title":"月次報告書.xlsx - EXCEL"}
{"window_title":"議事録.docx - Word"}
{"window_title":"\u0045xcel"}
`)
	for sc := m.JSONPrefilter().Lines(block); ; {
		start, end, ok := sc.Next()
		if !ok {
			break
		}
		fmt.Printf("%s\n", block[start:end])
	}
	// Output:
	// [{excel true}]
	// {"window_title":"月次報告書.xlsx - EXCEL"}
	// {"window_title":"\u0045xcel"}
}
