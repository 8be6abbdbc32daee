package compact

import (
	"bytes"
	"sync"
	"sync/atomic"
)

// Parsing runs beside decoding: the goroutine of a compaction reads and
// decodes raw objects into blocks of whole lines (blockBytes each) and hands
// them to parse workers, one per CPU, each filling its own chunk. The
// chunks of a run are sealed and sorted in parallel, merged into one time
// order (runData) and written as one file. A run holds at most BufferBytes
// of input over all its chunks — the budget is shared, not multiplied — so
// memory stays what the options say whatever the number of CPUs.

// blockBytes is the size of a block of lines handed to a parse worker:
// large enough that handing over costs nothing, small enough to spread an
// object over the workers and to keep a few in flight.
const blockBytes = 256 << 10

// parseBlock is a block of whole lines for a parse worker.
type parseBlock struct {
	seq  uint32
	own  blockOwner // what to give back once parsed
	data []byte     // whole lines, each ending with '\n'
}

// parsePool is the parse workers of one compaction. Its goroutines run from
// newParsePool to stop.
type parsePool struct {
	cfg      *chunkConfig
	chunks   []*chunk // chunks[i] is filled by worker i only
	work     chan parseBlock
	free     chan []byte
	pending  sync.WaitGroup // blocks handed out and not yet parsed
	workers  sync.WaitGroup
	seq      uint32
	bufSize  int
	rawBytes atomic.Int64 // bytes of the lines parsed from blocks
	// hints: the column sizes of the last chunk sealed (see newChunkLike).
	hints map[string]colSize
}

// Its chunks start with the column sizes of hints (nil: none).
// Block buffers come from and go back to free, which compactions share.
func newParsePool(n int, cfg *chunkConfig, bufSize int, free chan []byte, hints map[string]colSize) *parsePool {
	n = max(n, 1)
	p := &parsePool{
		cfg:     cfg,
		work:    make(chan parseBlock, n),
		free:    free,
		bufSize: bufSize,
		hints:   hints,
	}
	for i := range n {
		p.chunks = append(p.chunks, newChunkLike(cfg, hints))
		p.workers.Go(func() {
			for b := range p.work {
				ch := p.chunks[i] // replaced between runs, while no block is pending
				ch.beginBlock(b.seq)
				before := ch.bytes
				data := b.data
				for len(data) > 0 {
					j := bytes.IndexByte(data, '\n')
					if j < 0 { // blocks end with one; never loop on one that does not
						j = len(data)
					}
					if j > 0 {
						ch.addLine(data[:j])
					}
					data = data[min(j+1, len(data)):]
				}
				p.rawBytes.Add(ch.bytes - before)
				if b.own.buf != nil {
					p.put(b.own.buf)
				}
				if b.own.whole != nil {
					b.own.whole.release()
				}
				p.pending.Done()
			}
		})
	}
	return p
}

// get returns a block buffer.
func (p *parsePool) get() []byte {
	select {
	case b := <-p.free:
		return b[:cap(b)]
	default:
		return make([]byte, p.bufSize)
	}
}

func (p *parsePool) put(b []byte) {
	if cap(b) > 4*p.bufSize || cap(b) < p.bufSize { // grown for a long line, or not one of ours: let it go
		return
	}
	select {
	case p.free <- b:
	default:
	}
}

// dispatch hands a block to the workers; it blocks while all are busy and
// the queue is full. The worker gives own back once the block is parsed.
func (p *parsePool) dispatch(own blockOwner, data []byte) {
	p.seq++
	p.pending.Add(1)
	if own.whole != nil {
		own.whole.retain()
	}
	p.work <- parseBlock{seq: p.seq, own: own, data: data}
}

// drain waits until every block handed out is parsed.
func (p *parsePool) drain() { p.pending.Wait() }

// take seals the chunks of the run (sorted by time, in parallel), starts
// new ones, and returns the non-empty ones. Call it only after drain.
func (p *parsePool) take(stats *stats) []*sealed {
	out := make([]*sealed, len(p.chunks))
	var wg sync.WaitGroup
	for i, ch := range p.chunks {
		if ch.rows == 0 {
			continue
		}
		stats.unfit.Add(ch.nUnfit)
		stats.malformed.Add(ch.nMalformed)
		stats.badUTF8.Add(ch.nBadUTF8)
		p.hints = ch.sizeHints()
		wg.Go(func() { out[i] = ch.seal(true) })
		p.chunks[i] = newChunkLike(p.cfg, p.hints)
	}
	wg.Wait()
	var parts []*sealed
	for _, s := range out {
		if s != nil {
			parts = append(parts, s)
		}
	}
	return parts
}

// bytes returns the input bytes the current run's chunks hold. Call it
// only after drain.
func (p *parsePool) bytes() int64 {
	var n int64
	for _, ch := range p.chunks {
		n += ch.bytes
	}
	return n
}

// stop ends the workers, pending blocks parsed first, and releases the
// memory of the chunks not taken.
func (p *parsePool) stop() {
	close(p.work)
	p.workers.Wait()
	for _, ch := range p.chunks {
		ch.arena.release()
	}
}

// cutAt returns the length of the prefix of data, whole lines, after which
// a run that already holds have bytes reaches limit, counting bytes as a
// chunk does (len+1 per non-empty line); len(data) if it does not.
func cutAt(data []byte, have, limit int64) int {
	if have+int64(len(data)) < limit {
		return len(data)
	}
	off := 0
	for off < len(data) {
		j := bytes.IndexByte(data[off:], '\n')
		if j < 0 {
			return len(data)
		}
		if j > 0 {
			have += int64(j) + 1
		}
		off += j + 1
		if have >= limit {
			return off
		}
	}
	return len(data)
}
