package compact

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
)

// usesDictionaryMap is the plain form of usesDictionary's rule: distinct
// values of the sample counted in a map.
func usesDictionaryMap(arrs []arrow.Array) bool {
	n := 0
	for _, a := range arrs {
		if a != nil {
			n += a.Len()
		}
	}
	step := 1
	if n > dictSample {
		step = n / dictSample
	}
	seen := map[string]bool{}
	sampled := 0
	for _, arr := range arrs {
		if arr == nil {
			continue
		}
		for i := 0; i < arr.Len(); i += step {
			if arr.IsValid(i) {
				sampled++
				seen[arr.ValueStr(i)] = true
			}
		}
	}
	return sampled > 0 && len(seen)*dictMinRepeat <= sampled
}

func TestUsesDictionary(t *testing.T) {
	mem := memory.DefaultAllocator
	strs := func(n, distinct int, nullEvery int) arrow.Array {
		b := array.NewStringBuilder(mem)
		defer b.Release()
		for i := range n {
			if nullEvery > 0 && i%nullEvery == 0 {
				b.AppendNull()
				continue
			}
			b.Append(fmt.Sprintf("value-%d", i%distinct))
		}
		return b.NewArray()
	}
	ints := func(n, distinct int) arrow.Array {
		b := array.NewInt64Builder(mem)
		defer b.Release()
		for range n {
			b.Append(int64(rand.IntN(distinct)))
		}
		return b.NewArray()
	}
	for _, tc := range []struct {
		name string
		t    Type
		arrs []arrow.Array
	}{
		{"few distinct", TypeString, []arrow.Array{strs(1000, 10, 0)}},
		{"all distinct", TypeString, []arrow.Array{strs(1000, 1000, 0)}},
		{"a third distinct", TypeString, []arrow.Array{strs(999, 333, 0)}},
		{"just over a third", TypeString, []arrow.Array{strs(999, 334, 0)}},
		{"nulls", TypeString, []arrow.Array{strs(1000, 200, 3)}},
		{"all null", TypeString, []arrow.Array{strs(10, 1, 1)}},
		{"absent part", TypeString, []arrow.Array{nil, strs(500, 100, 0), strs(500, 400, 0)}},
		{"two values", TypeString, []arrow.Array{strs(2, 2, 0)}},
		{"sampled", TypeString, []arrow.Array{strs(3*dictSample+7, dictSample, 0)}},
		{"ints repeat", TypeInt64, []arrow.Array{ints(5000, 100)}},
		{"ints spread", TypeInt64, []arrow.Array{ints(5000, 1<<40)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, want := usesDictionary(tc.arrs, tc.t), usesDictionaryMap(tc.arrs)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("usesDictionary (-map rule +got):\n%s", diff)
			}
		})
	}
}

func TestZstdCodecRoundTrip(t *testing.T) {
	for level := 1; level <= 4; level++ {
		c := newZstdCodec(level)
		for _, n := range []int{0, 100, 200 << 10, 3 << 20} { // one block, several, past the window
			src := make([]byte, n)
			for i := range src {
				src[i] = byte('a' + i%7 + rand.IntN(2))
			}
			enc, err := c.Encode(nil, src)
			if err != nil {
				t.Fatal(err)
			}
			dec, err := c.Decode(nil, enc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dec, src) {
				t.Fatalf("level %d, %d bytes: round trip differs", level, n)
			}
		}
		c.drop()
	}
}
