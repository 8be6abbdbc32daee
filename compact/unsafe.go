package compact

import "unsafe"

// unsafeString views b as a string without copying. The caller must not
// modify b while the string is in use, nor keep the string past b's
// lifetime; it is used only for parsing calls that do not retain it.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// unsafeBytes views s as a byte slice without copying; the bytes must not
// be modified.
func unsafeBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
