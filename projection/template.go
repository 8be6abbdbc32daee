package projection

import (
	"fmt"
	"github.com/loglake/loglake"
	"strings"
	"unicode/utf8"
)

// tmplPart is a literal run or a ${name} placeholder of a location template.
type tmplPart struct {
	lit  string
	ph   bool   // a ${name} placeholder (lit unused)
	name string // placeholder's column name
	col  int    // column index of name, set by compileTemplate
}

// splitTemplate cuts a template into literal runs and ${name} placeholders.
// A "${" without a closing "}" is literal text (compileTemplate rejects it).
func splitTemplate(t string) []tmplPart {
	var parts []tmplPart
	for {
		i := strings.Index(t, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			break
		}
		if i > 0 {
			parts = append(parts, tmplPart{lit: t[:i]})
		}
		parts = append(parts, tmplPart{ph: true, name: t[i+2 : i+j]})
		t = t[i+j+1:]
	}
	if t != "" {
		parts = append(parts, tmplPart{lit: t})
	}
	return parts
}

// compileTemplate resolves placeholders to column indexes. Athena requires a
// placeholder for every partition column and allows repeats; a placeholder
// naming no column is an error. An empty template yields Athena's default
// layout, "col=${col}/" per column, relative to the table's LOCATION.
func compileTemplate(t string, cols []Column) ([]tmplPart, error) {
	if t == "" {
		var parts []tmplPart
		for i, c := range cols {
			parts = append(parts, tmplPart{lit: c.Name + "="}, tmplPart{ph: true, name: c.Name, col: i}, tmplPart{lit: "/"})
		}
		return parts, nil
	}
	for i := 0; i < len(t); i++ {
		if t[i] < 0x20 || t[i] == 0x7f {
			return nil, propErr(PropTemplate, t, "control character at byte %d", i)
		}
	}
	if !utf8.ValidString(t) {
		return nil, propErr(PropTemplate, t, "invalid UTF-8")
	}
	parts := splitTemplate(t)
	used := make([]bool, len(cols))
	for i := range parts {
		p := &parts[i]
		if !p.ph {
			if strings.Contains(p.lit, "${") {
				return nil, propErr(PropTemplate, t, "unterminated ${ placeholder")
			}
			continue
		}
		p.col = -1
		for ci, c := range cols {
			if c.Name == p.name {
				p.col = ci
				used[ci] = true
			}
		}
		if p.col < 0 {
			return nil, propErr(PropTemplate, t, "placeholder ${%s} names no partition column", p.name)
		}
	}
	for ci, u := range used {
		if !u {
			return nil, propErr(PropTemplate, t, "no placeholder for partition column %q (Athena requires one for every column)", cols[ci].Name)
		}
	}
	return parts, nil
}

// TemplatePrefix returns the fixed part of a location template: everything
// before its first placeholder. Every location rendered from the template
// starts with it and stays below it.
func TemplatePrefix(t string) string {
	if i := strings.Index(t, "${"); i >= 0 {
		return t[:i]
	}
	return t
}

// ValidateValue reports whether v may be substituted into a location under
// rule. Every rule rejects the empty string, ".", '/', '\', "..", '=', '%',
// control characters and invalid UTF-8, so a value cannot add a path
// segment, climb out of its prefix, fake a Hive key=value segment or smuggle
// an escape; TenantID further restricts v to loglake's tenant id charset.
// The returned error wraps ErrInvalidValue.
//
// Under TenantID the error also wraps [loglake.ErrInvalidTenant], so callers
// that check tenant ids with errors.Is see the root package's sentinel.
func ValidateValue(v string, rule ValueRule) error {
	if reason := badValue(v, rule); reason != "" {
		if rule == TenantID {
			return fmt.Errorf("%w %q: %s: %w", ErrInvalidValue, v, reason, loglake.ErrInvalidTenant)
		}
		return fmt.Errorf("%w %q: %s", ErrInvalidValue, v, reason)
	}
	return nil
}

func badValue(v string, rule ValueRule) string {
	if v == "" {
		return "empty"
	}
	if v == "." {
		return `is "."`
	}
	if strings.Contains(v, "..") {
		return `contains ".."`
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c < 0x20 || c == 0x7f:
			return "contains a control character"
		case c == '/' || c == '\\' || c == '=' || c == '%':
			return fmt.Sprintf("contains %q", c)
		}
	}
	if !utf8.ValidString(v) {
		return "invalid UTF-8"
	}
	if rule == TenantID {
		if err := loglake.ValidateTenant(v); err != nil {
			return "not a loglake tenant id (1-64 characters of [A-Za-z0-9._-] starting with a letter or digit, no \"..\")"
		}
	}
	return ""
}
