package query

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEqualityNeedle(t *testing.T) {
	tests := []struct {
		where string
		want  []string // prefilterLiterals' needles
	}{
		{"operation = 'copy'", []string{"copy"}},
		{"'copy' = operation", []string{"copy"}},
		{"operation = 'copy' AND removable = true AND file_path LIKE '%顧客%'", []string{"copy", "true", "顧客"}},
		{"ok = false", []string{"false"}},
		{"true = ok", []string{"true"}},
		{`msg = 'say "hi" \ there'`, []string{`say "hi" \ there`}},
		{"msg = '社外秘'", []string{"社外秘"}},
		{"msg = ' 12'", []string{" 12"}},
		// Texts that a number, boolean, timestamp or nested value may equal.
		{"code = '12'", nil},
		{"code = '-1.5e3'", nil},
		{"code = '1e999'", nil},
		{"code = 'NaN'", nil},
		{"code = 'Inf'", nil},
		{"flag = 'true'", nil},
		{"flag = 'false'", nil},
		{"flag = 'null'", nil},
		{"timestamp = '2026-11-20T10:00:00Z'", nil},
		{"at = '2026-11-20 10:00'", nil},
		{`obj = '{"a":1}'`, nil},
		{"arr = '[1,2]'", nil},
		{"msg = ''", nil},
		// Not an equality with a string, or not a column of the line.
		{"operation <> 'copy'", nil},
		{"operation = 'copy' OR operation = 'move'", nil},
		{"NOT operation = 'copy'", nil},
		{"operation IN ('copy')", nil},
		{"n = 5", nil},
		{"operation = other", nil},
		{"'a' = 'a'", nil},
		{"tenant_id = 'acme' AND dt = '2026-11-20'", nil},
		{"_unfit = 'x'", nil},
	}
	for _, tt := range tests {
		q, err := Parse("SELECT * FROM logs WHERE " + tt.where)
		if err != nil {
			t.Fatalf("%s: %v", tt.where, err)
		}
		var got []string
		for _, n := range prefilterLiterals(q.Filter) {
			if n.IgnoreCase {
				t.Errorf("%s: needle %q ignores case", tt.where, n.Text)
			}
			got = append(got, n.Text)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", tt.where, diff)
		}
	}
}
