package compact

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/gen"
	"gocloud.dev/pubsub"
	"gocloud.dev/pubsub/mempubsub"
)

// queueLake writes a small lake and returns its partitions' lines.
func queueLake(t *testing.T, lake *loglake.Lake, seed uint64) map[loglake.Partition][][]byte {
	t.Helper()
	parts := genLines(t, gen.Config{Tenants: 3, Days: 2, Seed: seed}, 900)
	for p, lines := range parts {
		putRawSplit(t, lake, p, "w", lines, 60)
	}
	return parts
}

func sortedParts(m map[loglake.Partition][][]byte) []loglake.Partition {
	var out []loglake.Partition
	for p := range m {
		out = append(out, p)
	}
	slices.SortFunc(out, comparePartitions)
	return out
}

func comparePartitions(a, b loglake.Partition) int {
	if a.Tenant != b.Tenant {
		if a.Tenant < b.Tenant {
			return -1
		}
		return 1
	}
	return a.Day.Compare(b.Day)
}

// ackTracker records which partitions were acked and cancels when all are.
type ackTracker struct {
	mu     sync.Mutex
	want   map[loglake.Partition]bool
	acked  map[loglake.Partition]int
	nacked int
	cancel context.CancelFunc
}

func newAckTracker(parts []loglake.Partition, cancel context.CancelFunc) *ackTracker {
	a := &ackTracker{want: map[loglake.Partition]bool{}, acked: map[loglake.Partition]int{}, cancel: cancel}
	for _, p := range parts {
		a.want[p] = true
	}
	return a
}

func (a *ackTracker) onMessage(r PartitionReport, acked bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !acked {
		a.nacked++
		return
	}
	a.acked[r.Partition]++
	for p := range a.want {
		if a.acked[p] == 0 {
			return
		}
	}
	a.cancel()
}

// TestWorkersDispatch: Dispatch publishes one message per partition;
// several workers share the subscription; injected failures are nacked and
// redelivered; in the end every partition is compacted and every record
// reads once.
func TestWorkersDispatch(t *testing.T) {
	ctx := context.Background()
	lake := memLake(t)
	parts := queueLake(t, lake, 11)
	topic := mempubsub.NewTopic()
	defer topic.Shutdown(ctx)
	sub := mempubsub.NewSubscription(topic, 5*time.Second)
	defer sub.Shutdown(ctx)

	d := newLeaser(t, lake, "dispatcher", Options{})
	sent, err := d.Dispatch(ctx, topic, Plan{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sortedParts(parts), sent); diff != "" {
		t.Fatalf("dispatched (-want +got):\n%s", diff)
	}

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	track := newAckTracker(sent, cancel)
	var failures sync.Map // partition → failed once already
	var injected atomic.Int32
	const workers = 3
	ws := make([]*Worker, workers)
	var wg sync.WaitGroup
	for i := range workers {
		c := newLeaser(t, lake, fmt.Sprintf("w%d", i), Options{MaxAttempts: 1, Hooks: Hooks{
			AfterStep: func(p loglake.Partition, s Step, _ string) error {
				// Every other partition fails its first attempt.
				if s == StepReadManifest && p.Day.Day%2 == 0 {
					if _, again := failures.LoadOrStore(p, true); !again {
						injected.Add(1)
						return errors.New("injected failure")
					}
				}
				return nil
			},
		}})
		ws[i] = &Worker{Compactor: c, Concurrency: 2, OnMessage: track.onMessage}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ws[i].Run(rctx, sub); !errors.Is(err, context.Canceled) {
				t.Errorf("worker %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if injected.Load() == 0 {
		t.Error("no failure was injected")
	}
	var st WorkerStats
	for _, w := range ws {
		s := w.Stats()
		st.Received += s.Received
		st.Acked += s.Acked
		st.Nacked += s.Nacked
	}
	if st.Nacked < int64(injected.Load()) || st.Acked < int64(len(parts)) || st.Received < st.Acked+st.Nacked {
		t.Errorf("stats %+v with %d injected failures", st, injected.Load())
	}
	for p, lines := range parts {
		checkExactlyOnce(t, lake, p, seqsOf(t, lines))
		v, err := Snapshot(ctx, lake, p)
		if err != nil || len(v.Raw) != 0 || v.Generation == 0 {
			t.Errorf("%s: generation %d, %d raw objects uncovered, %v", p, v.Generation, len(v.Raw), err)
		}
	}
}

// TestWorkerStopsMidMessage: a worker stops in the middle of a message — it
// neither acks nor nacks, and its lease is no longer renewed, as when a
// process dies. The message comes back after the subscription's ack
// deadline, another worker waits out the lease and compacts the partition.
func TestWorkerStopsMidMessage(t *testing.T) {
	ctx := context.Background()
	lake := memLake(t)
	parts := queueLake(t, lake, 12)
	topic := mempubsub.NewTopic()
	defer topic.Shutdown(ctx)
	sub := mempubsub.NewSubscription(topic, time.Second)
	defer sub.Shutdown(ctx)

	stuck := make(chan loglake.Partition, 1)
	unblock := make(chan struct{})
	var once sync.Once
	a := newLeaser(t, lake, "a", Options{LeaseTTL: time.Second, Hooks: Hooks{
		AfterStep: func(p loglake.Partition, s Step, _ string) error {
			if s == StepWroteFile {
				once.Do(func() {
					stuck <- p
					<-unblock // the "dead" worker's goroutine
				})
			}
			return nil
		},
	}})
	actx, stopA := context.WithCancel(ctx)
	aDone := make(chan error, 1)
	go func() {
		aDone <- (&Worker{Compactor: a}).Run(actx, sub)
	}()

	sent, err := a.Dispatch(ctx, topic, Plan{All: true})
	if err != nil {
		t.Fatal(err)
	}
	var held loglake.Partition
	select {
	case held = <-stuck:
	case <-time.After(30 * time.Second):
		t.Fatal("worker a never reached a partition")
	}
	stopA() // a stops receiving and renewing; its stuck message stays unacked

	bctx, stopB := context.WithCancel(ctx)
	defer stopB()
	track := newAckTracker(sent, stopB)
	var bHeld atomic.Bool
	b := newLeaser(t, lake, "b", Options{LeaseTTL: time.Second})
	err = (&Worker{Compactor: b, Concurrency: 2, OnMessage: func(r PartitionReport, acked bool) {
		if r.Partition == held && acked {
			bHeld.Store(true)
		}
		track.onMessage(r, acked)
	}}).Run(bctx, sub)
	if !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if !bHeld.Load() {
		t.Errorf("worker b never acked %s, the partition a stopped in", held)
	}
	close(unblock)
	if err := <-aDone; !errors.Is(err, context.Canceled) {
		t.Errorf("worker a: %v", err)
	}
	for p, lines := range parts {
		checkExactlyOnce(t, lake, p, seqsOf(t, lines))
	}
}

// TestWorkerMalformedAndMax: a malformed message is acked and counted;
// MaxMessages ends Run with nil.
func TestWorkerMalformedAndMax(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lake := memLake(t)
	parts := genLines(t, gen.Config{Tenants: 1, Days: 1, Seed: 13}, 50)
	topic := mempubsub.NewTopic()
	defer topic.Shutdown(ctx)
	sub := mempubsub.NewSubscription(topic, time.Minute)
	defer sub.Shutdown(ctx)
	for p, lines := range parts {
		putRaw(t, lake, p, "w", lines, loglake.CompressionNone)
		if err := topic.Send(ctx, &pubsub.Message{Body: []byte("{oops")}); err != nil {
			t.Fatal(err)
		}
		if err := topic.Send(ctx, MessageFor(p)); err != nil {
			t.Fatal(err)
		}
	}
	var malformed []error
	w := &Worker{Compactor: newLeaser(t, lake, "w", Options{}), MaxMessages: len(parts),
		OnMessage: func(r PartitionReport, acked bool) {
			if r.Partition == (loglake.Partition{}) {
				malformed = append(malformed, r.Err)
			}
		}}
	if err := w.Run(ctx, sub); err != nil {
		t.Fatal(err)
	}
	// The malformed message may come after the last valid one: then Run
	// stopped before receiving it.
	if st := w.Stats(); st.Acked != int64(len(parts)) || st.Malformed != int64(len(malformed)) || st.Nacked != 0 {
		t.Errorf("stats %+v", st)
	}
	for _, err := range malformed {
		if !errors.Is(err, loglake.ErrCorrupt) {
			t.Errorf("malformed message error: %v", err)
		}
	}
	for p, lines := range parts {
		checkExactlyOnce(t, lake, p, seqsOf(t, lines))
	}
	if err := (&Worker{}).Run(ctx, sub); !errors.Is(err, loglake.ErrInvalidOptions) {
		t.Errorf("Worker without Compactor: %v", err)
	}
}

func TestPartitionOf(t *testing.T) {
	day := loglake.Day{Year: 2026, Month: 3, Day: 1}
	tests := []struct {
		name string
		msg  *pubsub.Message
		want loglake.Partition
		err  error
	}{
		{"roundtrip", MessageFor(loglake.Partition{Tenant: "acme", Day: day}), loglake.Partition{Tenant: "acme", Day: day}, nil},
		{"metadata only", &pubsub.Message{Metadata: map[string]string{MetaTenant: "acme", MetaDay: "2026-03-01"}}, loglake.Partition{Tenant: "acme", Day: day}, nil},
		{"not json", &pubsub.Message{Body: []byte("acme 2026-03-01")}, loglake.Partition{}, loglake.ErrCorrupt},
		{"bad day", &pubsub.Message{Body: []byte(`{"tenant_id":"acme","dt":"2026-02-30"}`)}, loglake.Partition{}, loglake.ErrInvalidDay},
		{"bad tenant", &pubsub.Message{Body: []byte(`{"tenant_id":"../x","dt":"2026-03-01"}`)}, loglake.Partition{}, loglake.ErrInvalidTenant},
		{"empty", &pubsub.Message{}, loglake.Partition{}, loglake.ErrInvalidDay},
		{"nil", nil, loglake.Partition{}, loglake.ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PartitionOf(tc.msg)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzPartitionOf(f *testing.F) {
	f.Add([]byte(`{"tenant_id":"acme","dt":"2026-03-01"}`))
	f.Add([]byte(`{"tenant_id":"","dt":""}`))
	f.Add([]byte(`{"dt":"2026-03-01","tenant_id":"a=b"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := PartitionOf(&pubsub.Message{Body: body})
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted invalid %v: %v", p, err)
		}
		back, err := PartitionOf(MessageFor(p))
		if err != nil || back != p {
			t.Fatalf("round trip of %v: %v, %v", p, back, err)
		}
	})
}

func TestDispatchPlan(t *testing.T) {
	ctx := context.Background()
	lake := memLake(t)
	parts := queueLake(t, lake, 14)
	topic := mempubsub.NewTopic()
	defer topic.Shutdown(ctx)
	sub := mempubsub.NewSubscription(topic, time.Minute)
	defer sub.Shutdown(ctx)
	c := newLeaser(t, lake, "d", Options{})
	all := sortedParts(parts)
	plan := Plan{Tenants: []string{all[0].Tenant}, Days: []loglake.Day{all[0].Day}}
	sent, err := c.Dispatch(ctx, topic, plan)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(all[:1], sent); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	msg, err := sub.Receive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	msg.Ack()
	if p, err := PartitionOf(msg); err != nil || p != all[0] || msg.Metadata[MetaTenant] != all[0].Tenant || msg.Metadata[MetaDay] != all[0].Day.String() {
		t.Errorf("message %s %v: %v, %v", msg.Body, msg.Metadata, p, err)
	}
	if _, err := c.Dispatch(ctx, nil, Plan{}); !errors.Is(err, loglake.ErrInvalidOptions) {
		t.Errorf("nil topic: %v", err)
	}
}
