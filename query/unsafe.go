package query

import "unsafe"

// unsafeString views b as a string without copying. The string is valid as
// long as b is not modified; callers that keep it clone it (see
// cloneValue).
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
