// Package rawtest writes raw objects for tests of the stages that read
// them (compact, query) without going through ingest.
package rawtest

import (
	"context"
	"testing"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/rawcodec"
)

// PutRaw writes lines, one per NDJSON line, as the raw object
// raw/<partition>/<name><ext> of p encoded with c, and returns its key and
// size. It fails the test on any error.
func PutRaw(t testing.TB, lake *loglake.Lake, p loglake.Partition, name string, lines [][]byte, c loglake.Compression) (string, int64) {
	t.Helper()
	var buf []byte
	for _, l := range lines {
		buf = append(buf, l...)
		buf = append(buf, '\n')
	}
	enc, err := rawcodec.AppendEncoded(nil, buf, c)
	if err != nil {
		t.Fatal(err)
	}
	key := p.Prefix(loglake.AreaRaw) + name + c.Ext()
	if err := lake.WriteAll(context.Background(), key, enc, nil); err != nil {
		t.Fatal(err)
	}
	return key, int64(len(enc))
}
