package compact

import (
	"runtime"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/compress"
	pqzstd "github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/format"

	"github.com/loglake/loglake/internal/rawcodec"
)

// zstdWindow is the window of the page encoders. Pages are PageBytes
// (256 KiB by default) and rarely much more, so a page of up to a window
// compresses exactly as with the library's 8 MiB default; only dictionary
// pages of over a window (dictionaries of mostly distinct values) may find
// fewer matches. A smaller window makes an encoder's history a ninth of the
// default's, and creating one a matter of microseconds rather than of
// zeroing 16 MiB.
const zstdWindow = 1 << 20

// zstdCodec is the Parquet zstd codec of a Compactor. It keeps its encoders
// in a bounded free list of its own rather than in a sync.Pool: a pool is
// emptied by every second garbage collection, and compaction collects
// often, so encoders (about 3 MiB of tables each) were created again and
// again. The Compactor empties the list when no compaction runs. Decoding
// goes to parquet-go's codec.
type zstdCodec struct {
	level zstd.EncoderLevel
	free  chan *zstd.Encoder
	dec   pqzstd.Codec
}

var _ compress.Codec = (*zstdCodec)(nil)

// newZstdCodec returns a codec that encodes at level (1 fastest to 4 best,
// as Options.ZstdLevel).
func newZstdCodec(level int) *zstdCodec {
	lv := rawcodec.EncoderLevel(level)
	// Column encoders run one per CPU for each of a few partitions at once;
	// more than that are let go.
	return &zstdCodec{level: lv, free: make(chan *zstd.Encoder, 2*runtime.GOMAXPROCS(0)+2), dec: pqzstd.Codec{Level: lv}}
}

func (c *zstdCodec) String() string { return "ZSTD" }

func (c *zstdCodec) CompressionCodec() format.CompressionCodec { return format.Zstd }

// Encode writes the compressed form of src to dst[:0] and returns it.
func (c *zstdCodec) Encode(dst, src []byte) ([]byte, error) {
	var e *zstd.Encoder
	select {
	case e = <-c.free:
	default:
		var err error
		e, err = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(c.level),
			zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(zstdWindow),
			zstd.WithLowerEncoderMem(true),
			zstd.WithZeroFrames(true),
			zstd.WithEncoderCRC(false),
		)
		if err != nil {
			return dst, err
		}
	}
	dst = e.EncodeAll(src, dst[:0])
	select {
	case c.free <- e:
	default:
	}
	return dst, nil
}

// Decode writes the decompressed form of src to dst[:0] and returns it.
func (c *zstdCodec) Decode(dst, src []byte) ([]byte, error) { return c.dec.Decode(dst, src) }

// drop lets the idle encoders go.
func (c *zstdCodec) drop() { drain(c.free) }
