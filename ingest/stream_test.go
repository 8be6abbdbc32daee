package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/faultblob"
)

// refCuts is the cutting rule written plainly: a chunk ends at the first
// '\n' at or after size bytes into it, the last one at the end.
func refCuts(data []byte, size int) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		end := len(data)
		if size <= len(data) {
			if i := bytes.IndexByte(data[size-1:], '\n'); i >= 0 {
				end = size + i
			}
		}
		out = append(out, data[:end])
		data = data[end:]
	}
	return out
}

// readers are the read patterns a stream may come in.
var readers = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"one byte", iotest.OneByteReader},
	{"half", iotest.HalfReader},
	{"data with EOF", iotest.DataErrReader},
	{"7 bytes", func(r io.Reader) io.Reader { return &limitedReads{r, 7} }},
}

// limitedReads returns at most n bytes per Read.
type limitedReads struct {
	r io.Reader
	n int
}

func (l *limitedReads) Read(p []byte) (int, error) {
	if len(p) > l.n {
		p = p[:l.n]
	}
	return l.r.Read(p)
}

// cutAll runs a cutter over r, reusing a few buffers as AddStream does.
func cutAll(r io.Reader, size int) ([][]byte, error) {
	c := cutter{r: r, size: size}
	var out [][]byte
	var buf []byte
	for {
		data, err := c.next(buf)
		if len(data) > 0 {
			out = append(out, bytes.Clone(data))
		}
		buf = data
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func checkCuts(t *testing.T, data []byte, size int, wrap func(io.Reader) io.Reader) {
	t.Helper()
	got, err := cutAll(wrap(bytes.NewReader(data)), size)
	if err != nil {
		t.Fatal(err)
	}
	want := refCuts(data, size)
	if len(got) != len(want) {
		t.Fatalf("size %d: %d chunks, want %d", size, len(got), len(want))
	}
	for k := range got {
		if !bytes.Equal(got[k], want[k]) {
			t.Fatalf("size %d: chunk %d is %q, want %q", size, k, got[k], want[k])
		}
	}
}

func TestCutter(t *testing.T) {
	long := strings.Repeat("x", 300)
	inputs := []struct {
		name string
		data string
	}{
		{"empty", ""},
		{"one line", "a\n"},
		{"no final newline", "a\nbb\nccc"},
		{"blank lines", "\n\n\n\n"},
		{"long lines", long + "\n" + long + "\n" + long},
		{"short and long", "a\n" + long + "\nb\nc\n" + long + "\n"},
		{"multibyte", strings.Repeat("社外秘\n", 40)},
	}
	for _, in := range inputs {
		for _, rd := range readers {
			for _, size := range []int{1, 2, 3, 10, 64, 301, 1000} {
				t.Run(fmt.Sprintf("%s/%s/%d", in.name, rd.name, size), func(t *testing.T) {
					checkCuts(t, []byte(in.data), size, rd.wrap)
				})
			}
		}
	}
}

func TestCutterReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("a\nb\nc\n"), iotest.ErrReader(boom))
	got, err := cutAll(r, 3)
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want %v", err, boom)
	}
	if want := [][]byte{[]byte("a\nb\n")}; !slices.EqualFunc(got, want, bytes.Equal) {
		t.Errorf("chunks %q before the error, want %q", got, want)
	}
}

func FuzzCutter(f *testing.F) {
	f.Add([]byte("a\nbb\nccc\n"), 2, 0)
	f.Add([]byte("\n\n\nxyz"), 1, 3)
	f.Add([]byte(strings.Repeat("社外秘\n", 10)), 7, 4)
	f.Fuzz(func(t *testing.T, data []byte, size, reader int) {
		if size < 1 || size > 1<<12 {
			return
		}
		if reader < 0 {
			reader = -reader
		}
		checkCuts(t, data, size, readers[reader%len(readers)].wrap)
	})
}

// streamOf is w's inputs as one stream.
func streamOf(w workload) []byte { return bytes.Join(w.inputs, nil) }

// streamWorkload is the workload of the stream tests. Its origins name Add
// calls, not batches; the tests call checkLanded without FlushErrors, so
// it only counts seqs.
func streamWorkload() workload { return newWorkload(40, 5, 4) }

var arrived = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// TestAddStreamRerun is the idempotence of AddStream by counting: a first
// run breaks off — writes fail, or it is stopped after a few objects — or
// spills, and a second run of the same stream, read in other pieces, and
// Recover leave every record in the lake exactly once.
func TestAddStreamRerun(t *testing.T) {
	w := streamWorkload()
	data := streamOf(w)
	tests := []struct {
		name  string
		rules []*faultblob.Rule
		stop  int64 // cancel the first run after this many objects landed
		fails bool  // the first run must fail
	}{
		{name: "every write fails", rules: []*faultblob.Rule{{Kinds: []faultblob.OpKind{faultblob.OpWrite}}}, fails: true},
		{name: "writes fail after 5", rules: []*faultblob.Rule{{Kinds: []faultblob.OpKind{faultblob.OpWrite}, Skip: 5}}, fails: true},
		{name: "every third write fails", rules: []*faultblob.Rule{{Kinds: []faultblob.OpKind{faultblob.OpWrite}, Match: everyNth(3)}}},
		{name: "raw writes fail after 5", rules: []*faultblob.Rule{{Kinds: []faultblob.OpKind{faultblob.OpWrite}, KeyPrefix: "raw/", Skip: 5}}},
		{name: "stopped after 1 object", stop: 1},
		{name: "stopped after 9 objects", stop: 9},
		{name: "run twice"},
	}
	for _, tc := range tests {
		for _, size := range []int{1 << 10, 8 << 10, 1 << 20} {
			t.Run(fmt.Sprintf("%s/%d", tc.name, size), func(t *testing.T) {
				ctx := context.Background()
				lake, fb := newTestLake(t)
				for _, r := range tc.rules {
					fb.Add(r)
				}
				first, cancel := context.WithCancel(ctx)
				defer cancel()
				var landed atomic.Int64
				opts := Options{MaxRetries: -1, BufferBytes: 4 << 10, CarryFields: []string{"device_id"}}
				opts.Hooks.OnFlush = func(FlushInfo) {
					if landed.Add(1) == tc.stop {
						cancel()
					}
				}
				in, err := New(lake, fastRetries(opts))
				if err != nil {
					t.Fatal(err)
				}
				res, err := in.AddStream(first, bytes.NewReader(data), StreamOptions{BatchBytes: size, Arrived: arrived, Concurrency: 3})
				in.Close(ctx)
				if tc.fails && err == nil {
					t.Fatalf("first run: %+v, nil error", res)
				}
				if err != nil && !errors.Is(err, faultblob.ErrInjected) && !errors.Is(err, context.Canceled) {
					t.Errorf("first run's error %v wraps neither the write error nor the cancellation", err)
				}
				var fe *FlushError
				if err != nil && !errors.As(err, &fe) && !errors.Is(err, context.Canceled) {
					t.Errorf("first run's error is not a *FlushError: %v", err)
				}

				fb.Reset()
				opts.Hooks.OnFlush = nil
				in, err = New(lake, fastRetries(opts))
				if err != nil {
					t.Fatal(err)
				}
				res, err = in.AddStream(ctx, &limitedReads{bytes.NewReader(data), 1000}, StreamOptions{BatchBytes: size, Arrived: arrived})
				if err != nil {
					t.Fatalf("rerun: %v", err)
				}
				// Records the first run spilled are in spill/ and raw/ now;
				// Recover's move overwrites the rerun's objects.
				if _, err := in.Recover(ctx); err != nil {
					t.Fatal(err)
				}
				if cerr := in.Close(ctx); cerr != nil {
					t.Fatal(cerr)
				}
				if n := len(readArea(t, lake.Bucket(), "spill/")); n != 0 {
					t.Errorf("%d objects left in spill/", n)
				}
				if res.Bytes != int64(len(data)) || res.Batches != len(refCuts(data, size)) || res.Records == 0 || res.Written != res.Records {
					t.Errorf("rerun: %+v; want %d bytes in %d batches", res, len(data), len(refCuts(data, size)))
				}
				checkLanded(t, lake, w, nil)
			})
		}
	}
}

// TestAddStreamKeys: the objects depend on the bytes of the stream alone,
// not on how it was read or how many batches ran at once.
func TestAddStreamKeys(t *testing.T) {
	ctx := context.Background()
	data := streamOf(streamWorkload())
	var want map[string]string
	for _, rd := range readers[:4] {
		for _, conc := range []int{1, 4} {
			lake, _ := newTestLake(t)
			in, err := New(lake, &Options{BufferBytes: 4 << 10})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := in.AddStream(ctx, rd.wrap(bytes.NewReader(data)), StreamOptions{BatchBytes: 3000, Arrived: arrived, Concurrency: conc}); err != nil {
				t.Fatal(err)
			}
			if err := in.Close(ctx); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, area := range []string{"raw/", "errors/"} {
				for _, o := range readArea(t, lake.Bucket(), area) {
					got[o.Key] = strings.Join(o.Lines, "\n")
				}
			}
			if want == nil {
				want = got
				continue
			}
			if len(got) != len(want) {
				t.Fatalf("%s, concurrency %d: %d objects, want %d", rd.name, conc, len(got), len(want))
			}
			for k, v := range want {
				if got[k] != v {
					t.Fatalf("%s, concurrency %d: object %s differs", rd.name, conc, k)
				}
			}
		}
	}
}

func TestAddStreamErrors(t *testing.T) {
	ctx := context.Background()
	lake, _ := newTestLake(t)
	in, err := New(lake, &Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.AddStream(ctx, strings.NewReader(""), StreamOptions{BatchBytes: -1}); !errors.Is(err, loglake.ErrInvalidOptions) {
		t.Errorf("BatchBytes -1: %v", err)
	}
	boom := errors.New("boom")
	line := `{"tenant_id":"a","timestamp":"2026-11-20T00:00:00Z"}` + "\n"
	r := io.MultiReader(strings.NewReader(strings.Repeat(line, 100)), iotest.ErrReader(boom))
	res, err := in.AddStream(ctx, r, StreamOptions{BatchBytes: 10 * len(line)})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "offset") {
		t.Errorf("reader error: %v", err)
	}
	if res.Written != 100 { // the chunks cut before the error are whole
		t.Errorf("written %d records before the reader's error, want 100", res.Written)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := in.AddStream(cctx, strings.NewReader(line), StreamOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("ended ctx: %v", err)
	}
	if err := in.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := in.AddStream(ctx, strings.NewReader(line), StreamOptions{}); !errors.Is(err, loglake.ErrClosed) {
		t.Errorf("closed Ingestor: %v", err)
	}
}
