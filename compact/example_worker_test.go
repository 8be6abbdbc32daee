package compact_test

import (
	"context"
	"fmt"
	"log"
	"sort"
	"sync"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
	"gocloud.dev/pubsub"
	_ "gocloud.dev/pubsub/mempubsub" // mem:// topics; in production gocloud.dev/pubsub/awssnssqs for awssns:// and awssqs://
)

// A dispatcher publishes one message per partition; workers — here two in
// one process, in production one per machine or container, reading an SQS
// queue ("awssqs://sqs.us-east-1.amazonaws.com/123456789012/compact?region=us-east-1")
// — compact them and ack each message after its commit.
func ExampleWorker() {
	ctx := context.Background()
	lake, err := loglake.Open(ctx, "mem://")
	if err != nil {
		log.Fatal(err)
	}
	defer lake.Close()
	for _, tenant := range []string{"acme", "globex"} {
		p := loglake.Partition{Tenant: tenant, Day: loglake.NewDay(2026, 11, 20)}
		raw := `{"tenant_id":"` + tenant + `","timestamp":"2026-11-20T09:00:00Z","msg":"hello"}` + "\n"
		if err := lake.WriteAll(ctx, p.Prefix(loglake.AreaRaw)+"w1-000001.ndjson", []byte(raw), nil); err != nil {
			log.Fatal(err)
		}
	}

	topic, err := pubsub.OpenTopic(ctx, "mem://compact-example")
	if err != nil {
		log.Fatal(err)
	}
	defer topic.Shutdown(ctx)
	// The subscription's ack deadline is SQS's visibility timeout: a
	// message not acked within it is delivered again.
	sub, err := pubsub.OpenSubscription(ctx, "mem://compact-example?ackdeadline=5m")
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Shutdown(ctx)

	c, err := compact.New(lake, nil)
	if err != nil {
		log.Fatal(err)
	}
	sent, err := c.Dispatch(ctx, topic, compact.Plan{All: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("dispatched", len(sent), "partitions")

	ctx, stop := context.WithTimeout(ctx, time.Minute)
	defer stop()
	var mu sync.Mutex
	var lines []string
	left := len(sent)
	w := &compact.Worker{Compactor: c, Concurrency: 2, OnMessage: func(r compact.PartitionReport, acked bool) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprint(r.Partition, " ", r.Outcome, " acked=", acked))
		if left--; left == 0 {
			stop() // a real worker runs until it is told to stop
		}
	}}
	if err := w.Run(ctx, sub); err != context.Canceled {
		log.Fatal(err)
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	// Output:
	// dispatched 2 partitions
	// tenant_id=acme/dt=2026-11-20 compacted acked=true
	// tenant_id=globex/dt=2026-11-20 compacted acked=true
}
