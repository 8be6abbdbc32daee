package bigmem

import (
	"testing"
	"time"
)

func TestGetPut(t *testing.T) {
	a := Get(1)
	if n := len(a.Bytes()); n < Min || n != cap(a.Bytes()) {
		t.Fatalf("Get(1): %d bytes, cap %d", n, cap(a.Bytes()))
	}
	big := Get(3 * Min)
	if len(big.Bytes()) < 3*Min {
		t.Fatalf("Get(%d): %d bytes", 3*Min, len(big.Bytes()))
	}
	for _, b := range [][]byte{a.Bytes(), big.Bytes()} { // every byte writable
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
	}
	Put(big)
	Put(a)
	// The smallest pooled buffer that fits comes back.
	if b := Get(Min / 2); &b.Bytes()[0] != &a.Bytes()[:1][0] {
		t.Error("Get did not reuse the pooled buffer that fits best")
	} else {
		Put(b)
	}
	Put(nil)
}

// The pool lets its buffers go once idle.
func TestTrim(t *testing.T) {
	setIdle := func(d time.Duration) {
		pool.mu.Lock()
		idle = d
		if pool.trimming != nil { // a trim earlier tests scheduled
			pool.trimming.Reset(d)
		}
		pool.mu.Unlock()
	}
	defer setIdle(idle)
	setIdle(20 * time.Millisecond)
	Put(Get(1 << 20))
	pool.mu.Lock()
	held := pool.held
	pool.mu.Unlock()
	if held == 0 {
		t.Fatal("a returned buffer was not pooled")
	}
	for range 500 {
		time.Sleep(10 * time.Millisecond)
		pool.mu.Lock()
		held, n := pool.held, len(pool.free)
		pool.mu.Unlock()
		if held == 0 && n == 0 && Mapped() == 0 { // trim unmaps after emptying the list
			return
		}
	}
	t.Fatalf("the idle pool kept its buffers: %d bytes mapped", Mapped())
}

// Checked mode gives memory back at once.
func TestChecked(t *testing.T) {
	SetChecked(true)
	defer SetChecked(false)
	before := Mapped()
	b := Get(1)
	Put(b)
	if Mapped() != before {
		t.Fatalf("checked Put kept %d bytes mapped", Mapped()-before)
	}
	if b.Bytes() != nil {
		t.Fatal("a released buffer still has memory")
	}
	b = Get(1)
	defer Put(b)
	if buf := b.Bytes(); buf[0] == 0 || buf[len(buf)-1] == 0 {
		t.Fatal("a checked buffer starts out zeroed")
	}
}
