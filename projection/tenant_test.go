package projection_test

import (
	"testing"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/projection"
)

// FuzzTenantRuleMatchesRoot: the TenantID rule accepts exactly the ids
// loglake.ValidateTenant accepts, so the projection never renders a key the
// rest of loglake would refuse, nor refuses one it writes.
func FuzzTenantRuleMatchesRoot(f *testing.F) {
	for _, s := range []string{"acme", "a.b-c_d", "-a", "a..b", "a/b", "", ".", "A1", "x=y", "%41", "a\x00", "テナント",
		"0123456789012345678901234567890123456789012345678901234567890123", "01234567890123456789012345678901234567890123456789012345678901234"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		got := projection.ValidateValue(id, projection.TenantID) == nil
		want := loglake.ValidateTenant(id) == nil
		if got != want {
			t.Fatalf("%q: projection accepts=%v, loglake.ValidateTenant accepts=%v", id, got, want)
		}
	})
}
