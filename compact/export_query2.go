package compact

import "github.com/loglake/loglake"

// NewLineBatchSettings is [NewLineBatch] for lines that are not stored in a
// lake — records split at query time from a foreign layout's envelopes (see
// the query package's ForeignLayout). s supplies what NewLineBatch takes
// from the lake's settings: the timestamp and tenant fields and the
// accepted timestamp formats.
func NewLineBatchSettings(s loglake.Settings, p loglake.Partition, seed Schema) *LineBatch {
	cfg := &chunkConfig{tsField: s.TimestampField, tenantField: s.TenantField, tenant: p.Tenant,
		rules: newTimeRules(s), maxColumns: 1 << 20}
	if len(seed) > 0 {
		cfg.seed = make(map[string]Type, len(seed))
		for _, f := range seed {
			cfg.seed[f.Name] = f.Type
		}
	}
	return &LineBatch{ch: newChunk(cfg)}
}
