package compact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/loglake/loglake"
	"gocloud.dev/pubsub"
)

// Message metadata keys, set on every message of [MessageFor] beside the
// JSON body, so that queue filters (SNS subscription filter policies, for
// one) can route by tenant without reading bodies.
const (
	MetaTenant = "tenant_id"
	MetaDay    = "dt"
)

// maxMessageBytes bounds the body [PartitionOf] decodes: a partition
// message is well under 200 bytes.
const maxMessageBytes = 4 << 10

// partitionMessage is the JSON body of a partition message.
type partitionMessage struct {
	Tenant string `json:"tenant_id"`
	Day    string `json:"dt"`
}

// MessageFor returns the message that asks a [Worker] to compact p:
// body {"tenant_id":"<T>","dt":"<YYYY-MM-DD>"}, and the same two values as
// metadata ([MetaTenant], [MetaDay]). p is not validated; [Compactor.Dispatch]
// sends only valid partitions.
func MessageFor(p loglake.Partition) *pubsub.Message {
	body, _ := json.Marshal(partitionMessage{Tenant: p.Tenant, Day: p.Day.String()}) // cannot fail
	return &pubsub.Message{
		Body:     body,
		Metadata: map[string]string{MetaTenant: p.Tenant, MetaDay: p.Day.String()},
	}
}

// PartitionOf returns the partition a message of [MessageFor] names. It
// reads the body; a message with an empty body is read from its metadata.
// A body that is not such JSON is marked [loglake.ErrCorrupt]; a bad
// tenant or day wraps [loglake.ErrInvalidTenant] or [loglake.ErrInvalidDay].
func PartitionOf(m *pubsub.Message) (loglake.Partition, error) {
	var pm partitionMessage
	switch {
	case m == nil:
		return loglake.Partition{}, loglake.MarkCorrupt("compact: message", errors.New("nil"))
	case len(m.Body) > maxMessageBytes:
		return loglake.Partition{}, loglake.MarkCorrupt("compact: message", fmt.Errorf("body of %d bytes", len(m.Body)))
	case len(m.Body) > 0:
		if err := json.Unmarshal(m.Body, &pm); err != nil {
			return loglake.Partition{}, loglake.MarkCorrupt("compact: message", err)
		}
	default:
		pm = partitionMessage{Tenant: m.Metadata[MetaTenant], Day: m.Metadata[MetaDay]}
	}
	d, err := loglake.ParseDay(pm.Day)
	if err != nil {
		return loglake.Partition{}, fmt.Errorf("compact: message: %w", err)
	}
	p := loglake.Partition{Tenant: pm.Tenant, Day: d}
	if err := p.Validate(); err != nil {
		return loglake.Partition{}, fmt.Errorf("compact: message: %w", err)
	}
	return p, nil
}

// dispatchSenders is how many messages Dispatch has in flight at once:
// enough to hide a queue's round trip, few enough for any rate limit.
const dispatchSenders = 16

// Dispatch publishes one message ([MessageFor]) per partition that plan
// selects — the partitions [Compactor.Run] would compact — to topic, for
// [Worker]s to consume: the fan-out of a queue-driven pipeline (one
// message per tenant and day, as with SNS and SQS). It lists raw/ as Run
// does and compacts nothing. It returns the partitions it published, in
// tenant and day order; on an error, those published before it (a
// partition published twice is harmless: a Worker acks a message whose
// partition is already compacted).
//
// Dispatch neither opens nor shuts down topic; the caller shuts it down
// (Topic.Shutdown flushes what is batched).
func (c *Compactor) Dispatch(ctx context.Context, topic *pubsub.Topic, plan Plan) ([]loglake.Partition, error) {
	if c.closed.Load() {
		return nil, loglake.ErrClosed
	}
	if topic == nil {
		return nil, fmt.Errorf("%w: compact: Dispatch: nil topic", loglake.ErrInvalidOptions)
	}
	tenants, err := c.planTenants(ctx, plan)
	if err != nil {
		return nil, err
	}
	today := loglake.DayOf(c.opts.Clock(), c.lake.Location())
	var parts []loglake.Partition
	for _, t := range tenants {
		var days []loglake.Day
		if len(plan.Days) > 0 && len(plan.Tenants) > 0 {
			days = slices.Clone(plan.Days)
		} else {
			days, err = c.listDays(ctx, t)
			if err != nil {
				return nil, err
			}
			days = plan.selectDays(days, today)
		}
		slices.SortFunc(days, loglake.Day.Compare)
		for _, d := range slices.Compact(days) {
			parts = append(parts, loglake.Partition{Tenant: t, Day: d})
		}
	}

	sent := make([]bool, len(parts))
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range min(dispatchSenders, len(parts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				err := topic.Send(ctx, MessageFor(parts[i]))
				mu.Lock()
				if err == nil {
					sent[i] = true
				} else if firstErr == nil {
					firstErr = fmt.Errorf("compact: dispatch %s: %w", parts[i], err)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range parts {
		mu.Lock()
		stop := firstErr != nil
		mu.Unlock()
		if stop {
			break
		}
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	var out []loglake.Partition
	for i, ok := range sent {
		if ok {
			out = append(out, parts[i])
		}
	}
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return out, firstErr
}
