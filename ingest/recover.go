package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/rawcodec"
)

// RecoverResult tells what Recover moved.
type RecoverResult struct {
	Objects int // spill objects moved into raw/
	Records int // records in them
}

// Recover moves every object under spill/ — of any writer, this one or one
// that crashed — into its partition in raw/, under the raw object name it
// was first meant to have, then deletes it from spill/. It is idempotent:
// a Recover that stops half-way (a crash between the write and the delete)
// is finished by the next one, which overwrites the same raw key. Objects
// that fail to decode are left in place and reported with
// loglake.ErrCorrupt. Run it at start-up or from a maintenance job; it may
// run while Ingestors write.
func (in *Ingestor) Recover(ctx context.Context) (RecoverResult, error) {
	var res RecoverResult
	if err := in.begin(); err != nil {
		return res, err
	}
	defer in.ops.Done()
	var keys []string
	for obj, err := range in.lake.List(ctx, loglake.AreaSpill+"/", "") {
		if err != nil {
			return res, fmt.Errorf("ingest: recover: %w", err)
		}
		if _, ok := rawcodec.FromKey(obj.Key); ok {
			keys = append(keys, obj.Key)
		}
	}
	var errs []error
	for _, key := range keys {
		n, err := in.recoverOne(ctx, key)
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		res.Objects++
		res.Records += n
		in.st.recovered.Add(int64(n))
		in.st.recoveredObjects.Add(1)
	}
	return res, errors.Join(errs...)
}

// parseSpillKey splits spill/<writer>/<YYYY-MM-DD>.<name>.<tenant><ext>.
func parseSpillKey(key string) (loglake.Partition, string, string, error) {
	codec, _ := rawcodec.FromKey(key)
	ext := codec.Ext()
	rest := strings.TrimSuffix(key, ext)
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		rest = rest[i+1:]
	}
	bad := fmt.Errorf("%w %q: want spill/<writer>/<YYYY-MM-DD>.<name>.<tenant><ext>", loglake.ErrInvalidKey, key)
	if len(rest) < 12 || rest[10] != '.' {
		return loglake.Partition{}, "", "", bad
	}
	day, err := loglake.ParseDay(rest[:10])
	if err != nil {
		return loglake.Partition{}, "", "", fmt.Errorf("%w: %w", bad, err)
	}
	name, tenant, ok := strings.Cut(rest[11:], ".")
	if !ok || !validName(name, 128) {
		return loglake.Partition{}, "", "", bad
	}
	p := loglake.Partition{Tenant: tenant, Day: day}
	if err := p.Validate(); err != nil {
		return loglake.Partition{}, "", "", fmt.Errorf("%w: %w", bad, err)
	}
	return p, name, ext, nil
}

func (in *Ingestor) recoverOne(ctx context.Context, key string) (int, error) {
	p, name, ext, err := parseSpillKey(key)
	if err != nil {
		return 0, fmt.Errorf("ingest: recover: %w", err)
	}
	data, err := in.lake.ReadAll(ctx, key)
	if err != nil {
		if loglake.IsNotFound(err) {
			return 0, nil // another Recover moved it
		}
		return 0, fmt.Errorf("ingest: recover: %w", err)
	}
	codec, _ := rawcodec.FromKey(key)
	plain, err := rawcodec.AppendDecoded(nil, data, codec)
	if err != nil {
		return 0, fmt.Errorf("ingest: recover %s: %w", key, err)
	}
	if len(plain) > 0 && plain[len(plain)-1] != '\n' {
		return 0, loglake.MarkCorrupt("ingest: recover "+key, errors.New("last line is incomplete"))
	}
	records := bytes.Count(plain, []byte{'\n'})
	rawKey := p.Prefix(loglake.AreaRaw) + name + ext
	if _, err := in.write(ctx, rawKey, data); err != nil {
		return 0, fmt.Errorf("ingest: recover %s: %w", key, err)
	}
	if err := in.lake.Delete(ctx, key); err != nil {
		return 0, fmt.Errorf("ingest: recover: %w", err)
	}
	return records, nil
}
