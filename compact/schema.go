package compact

import (
	"fmt"
	"slices"
	"strings"
)

// Type is the type of a column, as the manifest records it and as Parquet
// stores it.
type Type string

// Column types. Inference picks the narrowest type that holds every value of
// a column (see the package doc, "Schema").
const (
	TypeString    Type = "string"    // Parquet BYTE_ARRAY, logical STRING (UTF-8)
	TypeInt64     Type = "int64"     // Parquet INT64
	TypeFloat64   Type = "float64"   // Parquet DOUBLE
	TypeBool      Type = "bool"      // Parquet BOOLEAN
	TypeTimestamp Type = "timestamp" // Parquet INT64, logical TIMESTAMP(MICROS, isAdjustedToUTC=true)
	TypeJSON      Type = "json"      // Parquet BYTE_ARRAY, logical JSON: nested objects and arrays as JSON text
)

// Valid reports whether t is one of the column types.
func (t Type) Valid() bool {
	switch t {
	case TypeString, TypeInt64, TypeFloat64, TypeBool, TypeTimestamp, TypeJSON:
		return true
	}
	return false
}

// UnfitColumn is the name of the column that keeps, as a JSON object text,
// every value of a record that could not be stored in its own column: a
// value that does not fit a pinned type, a timestamp that does not parse, a
// duplicate key, a field past [Options.MaxColumns], a field named
// UnfitColumn itself, a tenant field that names another tenant, or a whole
// line that is not a JSON object (as {"_line": "<text>"}). Its keys are the
// field names and its values the original JSON values, so nothing a raw
// object held is dropped.
const UnfitColumn = "_unfit"

// Field is a named, typed column.
type Field struct {
	Name string `json:"name"`
	Type Type   `json:"type"`
}

// Schema is a list of columns, sorted by name (Parquet stores the columns of
// a group in that order).
type Schema []Field

// Lookup returns the type of the column named name.
func (s Schema) Lookup(name string) (Type, bool) {
	i, ok := slices.BinarySearchFunc(s, name, func(f Field, n string) int { return strings.Compare(f.Name, n) })
	if !ok {
		return "", false
	}
	return s[i].Type, true
}

// Names returns the column names, in order.
func (s Schema) Names() []string {
	out := make([]string, len(s))
	for i, f := range s {
		out[i] = f.Name
	}
	return out
}

// widen returns the type that holds values of both a and b: equal types stay,
// int64 and float64 give float64, anything else conflicting gives string. An
// empty Type (a column seen only as null) yields to the other.
func widen(a, b Type) Type {
	switch {
	case a == b || b == "":
		return a
	case a == "":
		return b
	case (a == TypeInt64 && b == TypeFloat64) || (a == TypeFloat64 && b == TypeInt64):
		return TypeFloat64
	}
	return TypeString
}

// Union returns the schema with the columns of s and t, each with the
// widened type of both (see the package doc). Neither input is modified.
func Union(s, t Schema) Schema {
	out := make(Schema, 0, len(s)+len(t))
	i, j := 0, 0
	for i < len(s) || j < len(t) {
		switch {
		case j == len(t) || (i < len(s) && s[i].Name < t[j].Name):
			out = append(out, s[i])
			i++
		case i == len(s) || t[j].Name < s[i].Name:
			out = append(out, t[j])
			j++
		default:
			out = append(out, Field{Name: s[i].Name, Type: widen(s[i].Type, t[j].Type)})
			i++
			j++
		}
	}
	return out
}

// validate checks that s is sorted, has unique non-empty names and known
// types.
func (s Schema) validate() error {
	for i, f := range s {
		if f.Name == "" {
			return fmt.Errorf("column %d has an empty name", i)
		}
		if !f.Type.Valid() {
			return fmt.Errorf("column %q has unknown type %q", f.Name, f.Type)
		}
		if i > 0 && s[i-1].Name >= f.Name {
			return fmt.Errorf("columns not sorted or duplicate at %q", f.Name)
		}
	}
	return nil
}

func sortSchema(s Schema) Schema {
	s = slices.Clone(s)
	slices.SortFunc(s, func(a, b Field) int { return strings.Compare(a.Name, b.Name) })
	return s
}
