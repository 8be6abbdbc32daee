package gen

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestEnvelopes checks that the generator writes valid envelopes whose
// record counts and secret counts match what it reports, and that it is
// deterministic.
func TestEnvelopes(t *testing.T) {
	g := New(Config{Seed: 7, Tenants: 5, Days: 2})
	out, n := g.AppendNDJSON(nil, 5000)
	if n != g.Records || n < 5000 {
		t.Fatalf("AppendNDJSON returned %d records, generator counted %d", n, g.Records)
	}
	again, _ := New(Config{Seed: 7, Tenants: 5, Days: 2}).AppendNDJSON(nil, 5000)
	if !bytes.Equal(out, again) {
		t.Fatal("same seed, different output")
	}
	var records, secretPaths, secrets int
	tenants := map[string]int{}
	for _, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
		var env struct {
			Tenant string           `json:"tenant_id"`
			Log    []map[string]any `json:"log"`
		}
		if err := json.Unmarshal(line, &env); err != nil {
			t.Fatalf("invalid envelope %q: %v", line, err)
		}
		tenants[env.Tenant] += len(env.Log)
		for _, r := range env.Log {
			records++
			p, _ := r["file_path"].(string)
			w, _ := r["window_title"].(string)
			if strings.Contains(p, Secret) {
				secretPaths++
			}
			if strings.Contains(p, Secret) || strings.Contains(w, Secret) {
				secrets++
			}
			if utf8.RuneCountInString(p) > 255 {
				t.Fatalf("path longer than 255 characters: %q", p)
			}
		}
	}
	if records != g.Records || secretPaths != g.SecretPaths || secrets != g.Secrets {
		t.Fatalf("decoded %d records, %d secret paths, %d secrets; generator says %d, %d, %d",
			records, secretPaths, secrets, g.Records, g.SecretPaths, g.Secrets)
	}
	if len(tenants) != 5 || tenants[TenantName(0)] <= tenants[TenantName(4)] {
		t.Fatalf("tenant sizes not skewed as documented: %v", tenants)
	}
}
