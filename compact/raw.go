package compact

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/rawcodec"
)

// readRaw streams the raw object o line by line into fn; each line is valid
// during the call only. Memory is one read buffer plus the longest line. If
// the object's size is not the listed one, it was replaced since it was
// listed, and the read fails with errStale.
func readRaw(ctx context.Context, lake *loglake.Lake, o ObjectRef, fn func(line []byte)) error {
	codec, ok := rawcodec.FromKey(o.Key)
	if !ok {
		return fmt.Errorf("%w: compact: %s is not an NDJSON object", loglake.ErrInvalidKey, o.Key)
	}
	br, err := lake.NewReader(ctx, o.Key)
	if err != nil {
		return err
	}
	defer br.Close()
	if br.Size() != o.Size {
		return fmt.Errorf("%w: %s is %d bytes, listed as %d", errStale, o.Key, br.Size(), o.Size)
	}
	r, done, err := rawcodec.NewReader(br, codec)
	if err != nil {
		return fmt.Errorf("compact: %s: %w", o.Key, err)
	}
	defer done()
	return splitLines(r, fn, o.Key)
}

// splitLines calls fn for each line of r (without its newline; a last line
// without one counts too; empty lines are skipped).
func splitLines(r io.Reader, fn func([]byte), key string) error {
	buf := make([]byte, 1<<20)
	var long []byte // a line longer than buf, being assembled
	start, end := 0, 0
	for {
		if start == end {
			start, end = 0, 0
		}
		if end == len(buf) { // room: move the partial line to the front
			if start > 0 {
				end = copy(buf, buf[start:end])
				start = 0
			} else {
				long = append(long, buf[start:end]...)
				start, end = 0, 0
			}
		}
		n, err := r.Read(buf[end:])
		end += n
		for {
			i := bytes.IndexByte(buf[start:end], '\n')
			if i < 0 {
				break
			}
			line := buf[start : start+i]
			if long != nil {
				long = append(long, line...)
				line = long
			}
			if len(line) > 0 {
				fn(line)
			}
			long = long[:0:0]
			long = nil
			start += i + 1
		}
		if err == io.EOF {
			line := buf[start:end]
			if long != nil {
				line = append(long, line...)
			}
			if len(line) > 0 {
				fn(line)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("compact: read %s: %w", key, err)
		}
	}
}
