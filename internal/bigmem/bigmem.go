// Package bigmem pools large buffers for loglake's stages: raw objects
// read and decoded whole (query, compact) and the column arenas of
// compaction.
//
// A fresh 4 KiB page costs a page fault on first touch, and in short-lived
// processes and virtual machines (Lambda's included) those faults cost more
// than the decoding and parsing that fill the page. So the buffers are
// large, reused from one object or chunk to the next, and, where the
// platform allows, mapped outside the Go heap and backed by transparent
// huge pages: one fault per 2 MiB. Memory outside the heap is invisible to
// the heap statistics and to GOMEMLIMIT; [Mapped] reports it.
//
// The pool keeps at most [KeepBytes] in at most [KeepBuffers] buffers and
// frees them all once no buffer has been asked for or given back for 30
// seconds, so a long-lived process that used it once does not hold the
// memory for good.
package bigmem

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Buf is a buffer of the pool. Its memory is valid until [Put].
type Buf struct {
	b    []byte
	free func() // unmaps b; nil for Go memory
}

// Bytes returns the buffer's memory: len and cap are its capacity.
func (b *Buf) Bytes() []byte { return b.b }

const (
	// Min is the smallest buffer [Get] allocates.
	Min = 8 << 20
	// KeepBytes is the most memory the pool keeps for reuse.
	KeepBytes = 128 << 20
	// KeepBuffers is the most buffers the pool keeps for reuse.
	KeepBuffers = 32
	keepMax     = 256 << 20 // larger buffers are not kept
	hugePage    = 2 << 20
)

// idle is how long the pool keeps buffers nobody asks for. A variable for
// tests.
var idle = 30 * time.Second

// checked: see SetChecked.
var checked atomic.Bool

// SetChecked turns checking on or off, for tests. While on, [Put] unmaps
// buffers at once (where they are mapped) instead of pooling them, so
// that any use of a buffer after Put crashes the test, and [Get] fills
// new buffers with garbage, as a reused buffer may hold, so that a caller
// that counts on zeroed memory reads garbage.
func SetChecked(on bool) { checked.Store(on) }

// mapped is the total capacity of the buffers mapped outside the Go heap
// that exist, in use or pooled.
var mapped atomic.Int64

// Mapped returns the total size of the pool's buffers that live outside
// the Go heap, in use or kept for reuse: measurements of a stage's memory
// add this to the heap's.
func Mapped() int64 { return mapped.Load() }

var pool struct {
	mu       sync.Mutex
	free     []*Buf
	held     int         // total capacity of free
	lastUse  time.Time   // of the pool, by Get or Put
	trimming *time.Timer // pending trim, when free is not empty
}

// trim frees the pooled buffers once the pool has been idle long enough.
func trim() {
	pool.mu.Lock()
	if d := time.Since(pool.lastUse); d < idle {
		pool.trimming.Reset(idle - d)
		pool.mu.Unlock()
		return
	}
	free := pool.free
	pool.free, pool.held, pool.trimming = nil, 0, nil
	pool.mu.Unlock()
	for _, b := range free {
		b.release()
	}
}

// Get returns a buffer of at least n bytes: the smallest pooled one that
// fits, or a new one of at least [Min] bytes with some headroom.
// Capacity costs address space only: pages are touched as they are
// written.
func Get(n int) *Buf {
	pool.mu.Lock()
	pool.lastUse = time.Now()
	best := -1
	for i, b := range pool.free {
		if cap(b.b) >= n && (best < 0 || cap(b.b) < cap(pool.free[best].b)) {
			best = i
		}
	}
	if best >= 0 {
		b := pool.free[best]
		pool.free = append(pool.free[:best], pool.free[best+1:]...)
		pool.held -= cap(b.b)
		pool.mu.Unlock()
		return b
	}
	pool.mu.Unlock()
	size := max(n+n/4, Min) // the next, slightly larger request fits
	size = (size + hugePage - 1) &^ (hugePage - 1)
	if n > size || n < 0 {
		panic(fmt.Sprintf("bigmem: buffer of %d bytes", n))
	}
	b := alloc(size)
	if checked.Load() {
		for i := range b.b {
			b.b[i] = 0xa5
		}
	}
	return b
}

// Put gives b back to the pool, or frees it if the pool is full. b's
// memory must not be used afterwards. Put(nil) does nothing.
func Put(b *Buf) {
	if b == nil {
		return
	}
	if checked.Load() {
		b.release()
		return
	}
	pool.mu.Lock()
	pool.lastUse = time.Now()
	if c := cap(b.b); c <= keepMax && len(pool.free) < KeepBuffers && pool.held+c <= KeepBytes {
		pool.free = append(pool.free, b)
		pool.held += c
		if pool.trimming == nil {
			pool.trimming = time.AfterFunc(idle, trim) // idle: read under mu
		}
		pool.mu.Unlock()
		return
	}
	pool.mu.Unlock()
	b.release()
}

func (b *Buf) release() {
	if b.free != nil {
		b.free()
	}
	b.b, b.free = nil, nil
}
