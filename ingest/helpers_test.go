package ingest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/bigmem"
	"github.com/loglake/loglake/internal/faultblob"
	"github.com/loglake/loglake/internal/rawcodec"
)

// newTestLake returns a lake on a fault-injecting memory bucket.
func newTestLake(t testing.TB, opts ...loglake.Option) (*loglake.Lake, *faultblob.Bucket) {
	t.Helper()
	fb := faultblob.New(memblob.OpenBucket(nil))
	lake, err := loglake.New(context.Background(), fb.Bucket(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lake.Close() })
	return lake, fb
}

// fastRetries are options for tests: quick retries.
func fastRetries(o Options) *Options {
	o.RetryBaseDelay = time.Millisecond
	o.RetryMaxDelay = 4 * time.Millisecond
	return &o
}

// object is one decoded object of the lake.
type object struct {
	Key   string
	Lines []string
}

// readArea returns the NDJSON objects under prefix, decoded, bypassing
// fault rules.
func readArea(t testing.TB, bucket *blob.Bucket, prefix string) []object {
	t.Helper()
	ctx := context.Background()
	var objs []object
	it := bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		o, err := it.Next(ctx)
		if err != nil {
			break
		}
		codec, ok := rawcodec.FromKey(o.Key)
		if !ok {
			continue
		}
		data, err := bucket.ReadAll(ctx, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := rawcodec.AppendDecoded(nil, data, codec)
		if err != nil {
			t.Fatalf("%s: %v", o.Key, err)
		}
		if len(plain) > 0 && plain[len(plain)-1] != '\n' {
			t.Fatalf("%s: last line not terminated", o.Key)
		}
		obj := object{Key: o.Key}
		for _, line := range strings.Split(strings.TrimSuffix(string(plain), "\n"), "\n") {
			if line != "" {
				obj.Lines = append(obj.Lines, line)
			}
		}
		objs = append(objs, obj)
	}
	return objs
}

// inner returns the bucket under the fault injector, for reading without faults.
func innerBucket(t testing.TB, lake *loglake.Lake) *blob.Bucket { return lake.Bucket() }

// waitGoroutines fails t if the goroutine count does not come back to
// before within a few seconds.
func waitGoroutines(t testing.TB, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutines: %d before, %d after Close\n%s", before, n, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// seqOf returns the "seq" field of a formatted record or of a dead letter's data.
func seqsOf(t testing.TB, line string) []int {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("line is not JSON: %v: %s", err, line)
	}
	if s, ok := m["seq"]; ok {
		var n int
		if err := json.Unmarshal(s, &n); err != nil {
			t.Fatal(err)
		}
		return []int{n}
	}
	if d, ok := m["data"]; ok {
		var data string
		if err := json.Unmarshal(d, &data); err != nil {
			t.Fatal(err)
		}
		if enc, ok := m["data_encoding"]; ok && string(enc) == `"base64"` {
			raw, err := base64.StdEncoding.DecodeString(data)
			if err != nil {
				t.Fatal(err)
			}
			data = string(raw)
		}
		// A dead-lettered envelope or record: every seq in it.
		var out []int
		for _, part := range strings.Split(data, `"seq":`)[1:] {
			var n int
			fmt.Sscanf(part, "%d", &n)
			out = append(out, n)
		}
		return out
	}
	t.Fatalf("no seq in %s", line)
	return nil
}

// envelopeLine returns an envelope of n records numbered from seq.
func envelopeLine(tenant string, day string, seq, n int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"tenant_id":%q,"device_id":"pc-1","log":[`, tenant)
	for k := 0; k < n; k++ {
		if k > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"timestamp":"%sT10:00:%02dZ","seq":%d,"msg":"hello \"world\" \\ %d"}`, day, k%60, seq+k, k)
	}
	b.WriteString("]}\n")
	return b.Bytes()
}

// TestMain runs the tests with the bigmem pool checked: AddStream's buffers
// start out as garbage, and a use after release crashes. Benchmarks run
// with the pool as users have it.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		bigmem.SetChecked(true)
	}
	os.Exit(m.Run())
}
