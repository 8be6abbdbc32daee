package compact

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/loglake/loglake"
	"gocloud.dev/pubsub"
)

// Worker compacts the partitions named by the messages of a gocloud.dev
// pubsub subscription — the consumer side of a queue-driven fan-out, with
// [Compactor.Dispatch] (or any producer of [MessageFor] messages) on the
// other. Open the subscription with pubsub.OpenSubscription and the
// driver's blank import: "awssqs://sqs.<region>.amazonaws.com/<account>/<queue>"
// (gocloud.dev/pubsub/awssnssqs) in production, "mem://topic"
// (gocloud.dev/pubsub/mempubsub) in tests.
//
// Delivery is at least once, and a Worker is built for it: it acks a
// message only after the partition's compaction committed (or found
// nothing to do), so a worker that dies mid-message leaves it to be
// redelivered when its ack deadline (SQS: visibility timeout) passes; a
// redelivered or duplicate message compacts nothing twice — the commit
// protocol makes a repeated partition harmless, and the partition's lease
// (unless Options.DisableLeases) keeps two workers from working on it at
// once: the second waits for the first, then finds nothing left to do.
// A failed compaction (after the Compactor's own retries) is nacked when
// the driver supports it, else left to redeliver. A malformed message can
// never succeed: it is acked, logged and counted in [WorkerStats], never
// silently dropped — the message is only a trigger, and the partition's
// data stays in the lake for the next one.
//
// Set a queue's ack deadline above the time a partition takes, or expect
// duplicates (harmless, but wasted work). Fields are read when Run starts;
// the zero value of each optional one works.
type Worker struct {
	// Compactor compacts the partitions. Required. Its Options apply:
	// leases, MaxAttempts and RetryBackoff (a failure is retried before
	// the message is nacked), Hooks and Logger.
	Compactor *Compactor

	// Concurrency is how many messages are handled at once. Default: 1.
	// Negative is invalid.
	Concurrency int

	// MaxMessages makes Run return nil after this many messages were
	// acked. Default: 0, no limit (Run returns when ctx ends). Negative
	// is invalid.
	MaxMessages int

	// OnMessage, if not nil, is called after each message was acked or
	// nacked, on the goroutine that handled it (so it must be safe for
	// concurrent use when Concurrency > 1). r.Partition is zero for a
	// malformed message; r.Err says why a message was not acked, or why
	// it was malformed.
	OnMessage func(r PartitionReport, acked bool)

	stats workerStats
}

// WorkerStats are counters of a Worker's messages since it was created.
type WorkerStats struct {
	Received  int64 // messages received
	Acked     int64 // acked after a commit, or because nothing was left to do
	Nacked    int64 // failed: nacked, or left to redeliver where Nack is not supported
	Malformed int64 // acked without work because they named no valid partition
}

type workerStats struct {
	received, acked, nacked, malformed atomic.Int64
}

// Stats returns a snapshot of the worker's counters.
func (w *Worker) Stats() WorkerStats {
	return WorkerStats{Received: w.stats.received.Load(), Acked: w.stats.acked.Load(),
		Nacked: w.stats.nacked.Load(), Malformed: w.stats.malformed.Load()}
}

// Run receives messages from sub and handles them, Concurrency at a time,
// until ctx ends (it returns ctx's error), MaxMessages were acked (nil),
// or sub fails for good (its error). It returns only after every message
// it received was acked or nacked — or abandoned to redelivery, when the
// driver cannot nack — so no goroutine outlives it. Run neither opens nor
// shuts down sub; several Workers, in one process or many, may share a
// subscription.
func (w *Worker) Run(ctx context.Context, sub *pubsub.Subscription) error {
	var bad []string
	switch {
	case w.Compactor == nil:
		bad = append(bad, "Compactor: nil")
	case w.Compactor.closed.Load():
		return loglake.ErrClosed
	}
	if sub == nil {
		bad = append(bad, "subscription: nil")
	}
	if w.Concurrency < 0 {
		bad = append(bad, fmt.Sprintf("Concurrency %d: want >= 0", w.Concurrency))
	}
	if w.MaxMessages < 0 {
		bad = append(bad, fmt.Sprintf("MaxMessages %d: want >= 0", w.MaxMessages))
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: compact: Worker: %s", loglake.ErrInvalidOptions, strings.Join(bad, "; "))
	}
	conc := w.Concurrency
	if conc == 0 {
		conc = 1
	}

	// recvCtx stops receiving once MaxMessages were acked; handlers keep
	// ctx, so work in flight finishes.
	recvCtx, stopRecv := context.WithCancel(ctx)
	defer stopRecv()
	var acked atomic.Int64
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case sem <- struct{}{}:
		case <-recvCtx.Done():
			return w.runErr(ctx, recvCtx, nil)
		}
		msg, err := sub.Receive(recvCtx)
		if err != nil {
			<-sem
			return w.runErr(ctx, recvCtx, err)
		}
		w.stats.received.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if w.handle(ctx, msg) && w.MaxMessages > 0 && acked.Add(1) >= int64(w.MaxMessages) {
				stopRecv()
			}
		}()
	}
}

// runErr is Run's result once receiving stopped.
func (w *Worker) runErr(ctx, recvCtx context.Context, recvErr error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case recvCtx.Err() != nil:
		return nil // MaxMessages reached
	}
	return fmt.Errorf("compact: worker: receive: %w", recvErr)
}

// handle compacts the partition msg names and acks or nacks msg. It
// reports whether msg was acked for a valid partition.
func (w *Worker) handle(ctx context.Context, msg *pubsub.Message) bool {
	c := w.Compactor
	p, err := PartitionOf(msg)
	if err != nil {
		w.stats.malformed.Add(1)
		c.opts.Logger.Warn("compact: worker: acking a malformed message", "id", msg.LoggableID, "err", err)
		msg.Ack()
		if w.OnMessage != nil {
			w.OnMessage(PartitionReport{Result: Result{Outcome: OutcomeFailed}, Err: err}, true)
		}
		return false
	}
	pr := c.compactMessage(ctx, p)
	ok := pr.Err == nil
	switch {
	case ok:
		w.stats.acked.Add(1)
		msg.Ack()
	case msg.Nackable():
		w.stats.nacked.Add(1)
		msg.Nack()
	default:
		// The driver cannot nack: the message comes back when its ack
		// deadline passes.
		w.stats.nacked.Add(1)
	}
	if !ok && ctx.Err() == nil {
		c.opts.Logger.Warn("compact: worker: partition failed; message not acked", "partition", p.String(), "err", pr.Err)
	}
	if w.OnMessage != nil {
		w.OnMessage(pr, ok)
	}
	return ok
}

// compactMessage compacts p for a Worker: it waits for p's lease while
// another compactor holds it (the other may die; the message must not be
// acked before the partition is done), then compacts with retries.
func (c *Compactor) compactMessage(ctx context.Context, p loglake.Partition) PartitionReport {
	pr := PartitionReport{Result: Result{Partition: p}}
	if !c.opts.DisableLeases {
		lease, err := c.WaitLease(ctx, p, func(le *LeasedError) {
			pr.LeasedBy = le.Owner
			if h := c.opts.Hooks.OnLeased; h != nil {
				h(le)
			}
		})
		switch {
		case ctx.Err() != nil:
			pr.Outcome, pr.Err = OutcomeFailed, ctx.Err()
			if pr.LeasedBy != "" {
				pr.Outcome = OutcomeLeased
			}
			c.releaseLease(ctx, lease)
			return pr
		case err != nil:
			c.opts.Logger.Warn("compact: could not take a lease; compacting without", "partition", p.String(), "err", err)
		}
		defer c.releaseLease(ctx, lease)
	}
	return c.attempts(ctx, pr, func() bool { return true }, func() {})
}
