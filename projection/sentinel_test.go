package projection_test

import (
	"errors"
	"testing"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/projection"
)

// TestTenantValueSentinel checks that a rejected tenant value matches both
// projection's sentinel and the root's, and that other rules do not claim
// to be about tenants.
func TestTenantValueSentinel(t *testing.T) {
	for _, v := range []string{"../x", "a/b", "", "Ａcme", "-x", "a..b"} {
		err := projection.ValidateValue(v, projection.TenantID)
		if !errors.Is(err, projection.ErrInvalidValue) || !errors.Is(err, loglake.ErrInvalidTenant) {
			t.Errorf("ValidateValue(%q, TenantID) = %v, want ErrInvalidValue and loglake.ErrInvalidTenant", v, err)
		}
	}
	err := projection.ValidateValue("a/b", projection.PathSafe)
	if !errors.Is(err, projection.ErrInvalidValue) || errors.Is(err, loglake.ErrInvalidTenant) {
		t.Errorf("ValidateValue(a/b, PathSafe) = %v, want ErrInvalidValue only", err)
	}
	if err := projection.ValidateValue("tenant-001", projection.TenantID); err != nil {
		t.Errorf("ValidateValue(tenant-001) = %v", err)
	}
}
