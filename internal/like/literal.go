package like

// Literal is a byte string searched for case-sensitively through its
// rarest byte (the search of LIKE '%lit%'), for callers that search many
// values at once, e.g. the concatenated values of a Parquet page.
type Literal struct{ f *foldLit }

// NewLiteral returns the Literal of lit.
func NewLiteral(lit []byte) *Literal { return &Literal{f: asciiFoldLit(lit, false)} }

// Index returns the position of the first occurrence of the literal in s,
// or -1. An empty literal is at 0.
func (l *Literal) Index(s []byte) int { return l.f.index(s) }
