package compact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/loglake/loglake"
)

// ManifestVersion is the version of the manifest format this package
// writes. Manifests of a newer version are refused as corrupt rather than
// misread.
const ManifestVersion = 1

// manifestDir is the folder of a partition's manifests, under its
// compacted/ prefix.
const manifestDir = "_manifest/"

// genDigits is the width of a generation in a manifest's name: zero padding
// makes the lexical order of keys the numeric order of generations.
const genDigits = 20

// FileRef describes a live Parquet file of a partition.
type FileRef struct {
	Key     string    `json:"key"`
	Size    int64     `json:"size"`
	Rows    int64     `json:"rows"`
	MinTime time.Time `json:"min_time"` // zero when no row has a time
	MaxTime time.Time `json:"max_time"`
	Schema  Schema    `json:"schema"` // the file's own columns; may be narrower than the partition's
}

// ObjectRef describes a raw object.
type ObjectRef struct {
	Key  string `json:"key"`
	Size int64  `json:"size"`
	// MD5 is the content hash the store reported, hex, when it reports one
	// (memblob, fileblob, S3 for single-part uploads).
	MD5 string `json:"md5,omitempty"`
}

// coveredRef is a raw object a manifest covers.
type coveredRef struct {
	ObjectRef
	// Since is when the object was first covered; entries of deleted
	// objects are dropped RedeliveryWindow after it.
	Since time.Time `json:"since"`
}

// manifest is one generation of a partition's commit record.
type manifest struct {
	Version    int          `json:"version"`
	Generation int64        `json:"generation"`
	Partition  string       `json:"partition"`
	Created    time.Time    `json:"created"`
	Committer  string       `json:"committer"`
	Schema     Schema       `json:"schema"`
	Files      []FileRef    `json:"files"`
	Covered    []coveredRef `json:"covered"`
	// Superseded are files of earlier generations this one no longer
	// lists; they are deleted after the commit (and again by the next
	// compaction, should a crash interrupt that).
	Superseded []string `json:"superseded,omitempty"`
}

func manifestKey(p loglake.Partition, gen int64) string {
	return p.Prefix(loglake.AreaCompacted) + manifestDir + fmt.Sprintf("%0*d", genDigits, gen) + ".json"
}

// parseManifestName returns the generation of a manifest key's last segment
// ("00000000000000000003.json").
func parseManifestName(name string) (int64, bool) {
	s, ok := strings.CutSuffix(name, ".json")
	if !ok || len(s) != genDigits {
		return 0, false
	}
	g, err := strconv.ParseInt(s, 10, 64)
	if err != nil || g < 1 {
		return 0, false
	}
	return g, true
}

func encodeManifest(m *manifest) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, fmt.Errorf("compact: encode manifest: %w", err)
	}
	return append(b, '\n'), nil
}

// decodeManifest parses and checks a manifest of partition p. Every failure
// is marked [loglake.ErrCorrupt]. The checks matter for isolation as much as
// for integrity: a manifest can only name objects inside its own partition.
func decodeManifest(data []byte, p loglake.Partition, gen int64) (*manifest, error) {
	what := "compact: manifest " + manifestKey(p, gen)
	if len(data) > manifestMaxBytes {
		return nil, loglake.MarkCorrupt(what, fmt.Errorf("%d bytes, more than %d", len(data), manifestMaxBytes))
	}
	m, ok := decodeManifestFast(data)
	if !ok {
		var err error
		if m, err = decodeManifestJSON(data); err != nil {
			return nil, loglake.MarkCorrupt(what, err)
		}
	}
	if err := m.check(p, gen); err != nil {
		return nil, loglake.MarkCorrupt(what, err)
	}
	return m, nil
}

// decodeManifestJSON decodes a manifest with encoding/json: the reference
// decoding, for whatever decodeManifestFast does not take.
func decodeManifestJSON(data []byte) (*manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m manifest
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data")
	}
	return &m, nil
}

func (m *manifest) check(p loglake.Partition, gen int64) error {
	if m.Version < 1 || m.Version > ManifestVersion {
		return fmt.Errorf("version %d; this loglake reads 1 to %d", m.Version, ManifestVersion)
	}
	if gen > 0 && m.Generation != gen {
		return fmt.Errorf("generation %d in a manifest named %d", m.Generation, gen)
	}
	if m.Generation < 1 {
		return fmt.Errorf("generation %d", m.Generation)
	}
	if m.Partition != p.Key() {
		return fmt.Errorf("partition %q, want %q", m.Partition, p.Key())
	}
	if err := m.Schema.validate(); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	cprefix := p.Prefix(loglake.AreaCompacted)
	rprefix := p.Prefix(loglake.AreaRaw)
	seen := map[string]bool{}
	for _, f := range m.Files {
		if !strings.HasPrefix(f.Key, cprefix) || !strings.HasSuffix(f.Key, ".parquet") || strings.Contains(f.Key[len(cprefix):], "/") {
			return fmt.Errorf("file %q is not a Parquet file of the partition", f.Key)
		}
		if seen[f.Key] {
			return fmt.Errorf("file %q listed twice", f.Key)
		}
		seen[f.Key] = true
		if f.Size < 0 || f.Rows < 0 {
			return fmt.Errorf("file %q: negative size or rows", f.Key)
		}
		if err := f.Schema.validate(); err != nil {
			return fmt.Errorf("file %q schema: %w", f.Key, err)
		}
	}
	for _, r := range m.Covered {
		if !strings.HasPrefix(r.Key, rprefix) {
			return fmt.Errorf("covered object %q is not in the partition", r.Key)
		}
		if seen[r.Key] {
			return fmt.Errorf("covered object %q listed twice", r.Key)
		}
		seen[r.Key] = true
		if r.Size < 0 {
			return fmt.Errorf("covered object %q: negative size", r.Key)
		}
	}
	for _, k := range m.Superseded {
		if !strings.HasPrefix(k, cprefix) || !strings.HasSuffix(k, ".parquet") || strings.Contains(k[len(cprefix):], "/") {
			return fmt.Errorf("superseded file %q is not a Parquet file of the partition", k)
		}
		if seen[k] {
			return fmt.Errorf("superseded file %q is also live", k)
		}
	}
	return nil
}

// covers reports whether the manifest covers the raw object o: same key and
// size, and the same MD5 where both sides know it. Modification times are
// deliberately not compared: a batch redelivered with identical content
// rewrites the object (new time, same bytes) and must stay covered.
func (m *manifest) coverIndex() map[string]ObjectRef {
	idx := make(map[string]ObjectRef, len(m.Covered))
	for _, c := range m.Covered {
		idx[c.Key] = c.ObjectRef
	}
	return idx
}

func covered(idx map[string]ObjectRef, o ObjectRef) bool {
	c, ok := idx[o.Key]
	if !ok || c.Size != o.Size {
		return false
	}
	return c.MD5 == "" || o.MD5 == "" || c.MD5 == o.MD5
}
