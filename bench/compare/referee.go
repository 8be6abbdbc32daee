package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// predicate is a search both engines run, with the plain Go evaluation the
// referee uses to know the right count.
type predicate struct {
	name  string // short name in the table
	where string // SQL accepted by loglake's query.Parse and by DuckDB
	match func(*refRecord) bool
}

// predicates are the searches measured: the infix LIKE on long Windows paths
// that motivates loglake, a case-insensitive one, and a three-condition
// filter ("confidential-customer files copied to removable media").
var predicates = []predicate{
	{
		name:  "LIKE",
		where: "file_path LIKE '%社外秘%'",
		match: func(r *refRecord) bool { return strings.Contains(r.FilePath, "社外秘") },
	},
	{
		name:  "ILIKE",
		where: "window_title ILIKE '%excel%'",
		match: func(r *refRecord) bool { return strings.Contains(strings.ToLower(r.WindowTitle), "excel") },
	},
	{
		name:  "3 conditions",
		where: "operation = 'copy' AND removable = true AND file_path LIKE '%顧客%'",
		match: func(r *refRecord) bool {
			return r.Operation == "copy" && r.Removable && strings.Contains(r.FilePath, "顧客")
		},
	},
}

// refRecord holds the fields the predicates read.
type refRecord struct {
	Timestamp   string `json:"timestamp"`
	Operation   string `json:"operation"`
	FilePath    string `json:"file_path"`
	WindowTitle string `json:"window_title"`
	Removable   bool   `json:"removable"`
}

type refEnvelope struct {
	TenantID string      `json:"tenant_id"`
	Log      []refRecord `json:"log"`
}

// referee knows the right answers: it decodes the generated envelopes with
// encoding/json, independently of both engines.
type referee struct {
	records int64
	// partitions maps "tenant/dt" to the records of that partition.
	partitions map[string][]refRecord
}

func newReferee(envelopes []byte) (*referee, error) {
	r := &referee{partitions: map[string][]refRecord{}}
	sc := bufio.NewScanner(bytes.NewReader(envelopes))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var e refEnvelope
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("referee: %w", err)
		}
		for _, rec := range e.Log {
			if len(rec.Timestamp) < 10 {
				return nil, fmt.Errorf("referee: record without a timestamp in tenant %s", e.TenantID)
			}
			// The generator writes UTC RFC 3339 times; the lake's zone is UTC.
			k := e.TenantID + "/" + rec.Timestamp[:10]
			r.partitions[k] = append(r.partitions[k], rec)
			r.records++
		}
	}
	return r, sc.Err()
}

// count returns the records of q's scope and how many of them match.
func (r *referee) count(q *querySpec, p predicate) (scope, matched int64) {
	for k, recs := range r.partitions {
		tenant, day, _ := strings.Cut(k, "/")
		if len(q.Tenants) > 0 && !slices.Contains(q.Tenants, tenant) {
			continue
		}
		if day < q.From || day > q.To {
			continue
		}
		scope += int64(len(recs))
		for i := range recs {
			if p.match(&recs[i]) {
				matched++
			}
		}
	}
	return scope, matched
}
