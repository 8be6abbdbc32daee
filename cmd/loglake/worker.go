package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sync"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
	"gocloud.dev/pubsub"
	_ "gocloud.dev/pubsub/awssnssqs" // awssns:// topics, awssqs:// topics and subscriptions
	_ "gocloud.dev/pubsub/mempubsub" // mem:// (one process: tests, demos)
)

// workerSubscribed is called once the worker command has opened its
// subscription; tests replace it to know when messages will be received.
var workerSubscribed = func() {}

func init() {
	register(&command{
		name:    "worker",
		usage:   "--lake URL --subscription SUB_URL [--concurrency N] [--max-messages N] [--lease-ttl D | --no-leases]",
		summary: "compact the partitions named by messages of a queue (see compact --dispatch)",
		help: `worker consumes a gocloud.dev pubsub subscription whose messages each name
one partition ({"tenant_id":"T","dt":"YYYY-MM-DD"}, as compact --dispatch
publishes them), compacts that partition, and acks the message only after the
commit. A worker that dies leaves its message to be redelivered when the
queue's ack deadline (SQS: visibility timeout) passes, and a redelivered or
duplicate message is harmless. A failed partition is retried, then nacked.
Partitions are leased as by compact, so workers and compact processes can
share a lake. Run as many workers as you like, on as many machines.

Subscriptions: awssqs://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE?region=REGION
on AWS (credentials and region from the usual AWS environment variables; set
the queue's visibility timeout above the time a partition takes), mem://NAME
within one process. The worker runs until interrupted (SIGINT, SIGTERM: it
finishes or hands back the messages in hand, then exits 0) or until
--max-messages messages were acked. One line per message goes to stderr.`,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, []string) error {
			lakeURL := fs.String("lake", "", "lake URL (file:///path, a plain path, s3://bucket?...) (required)")
			subURL := fs.String("subscription", "", "pubsub subscription URL (awssqs://…, mem://…) (required)")
			concurrency := fs.Int("concurrency", 0, "messages handled at once (default 1)")
			maxMessages := fs.Int("max-messages", 0, "exit after this many messages were acked (default: run until interrupted)")
			bufferMB := fs.Int("buffer-mb", 0, "MiB of decoded NDJSON held per partition before a file is written (default 128)")
			leaseTTL := fs.Duration("lease-ttl", 0, "how long a partition's lease lasts unless renewed (default 2m)")
			noLeases := fs.Bool("no-leases", false, "compact without leases")
			return func(ctx context.Context, e *env, args []string) error {
				switch {
				case *lakeURL == "":
					return usagef("--lake is required")
				case *subURL == "":
					return usagef("--subscription is required")
				case len(args) > 0:
					return usagef("unexpected arguments %q", args)
				case *concurrency < 0 || *maxMessages < 0:
					return usagef("--concurrency and --max-messages must not be negative")
				case *noLeases && *leaseTTL != 0:
					return usagef("--no-leases and --lease-ttl exclude each other")
				}
				lake, err := loglake.Open(ctx, *lakeURL, loglake.WithMustExist())
				if err != nil {
					return err
				}
				defer lake.Close()
				var mu sync.Mutex
				c, err := compact.New(lake, &compact.Options{
					BufferBytes:   int64(*bufferMB) << 20,
					LeaseTTL:      *leaseTTL,
					DisableLeases: *noLeases,
					Hooks: compact.Hooks{OnLeased: func(le *compact.LeasedError) {
						mu.Lock()
						defer mu.Unlock()
						fmt.Fprintf(e.stderr, "%-44s leased by %s until %s: waiting\n", le.Partition, le.Owner, le.Expires.Local().Format(time.TimeOnly))
					}},
				})
				if err != nil {
					return err
				}
				defer c.Close()
				sub, err := pubsub.OpenSubscription(ctx, *subURL)
				if err != nil {
					return fmt.Errorf("open subscription: %w", err)
				}
				defer func() {
					// Shutdown flushes the acks still batched: without it, a
					// finished message would be redelivered.
					sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
					defer cancel()
					if err := sub.Shutdown(sctx); err != nil {
						fmt.Fprintf(e.stderr, "loglake worker: shut down subscription: %v\n", err)
					}
				}()
				workerSubscribed()
				w := &compact.Worker{
					Compactor:   c,
					Concurrency: *concurrency,
					MaxMessages: *maxMessages,
					OnMessage: func(r compact.PartitionReport, acked bool) {
						mu.Lock()
						defer mu.Unlock()
						verdict := "acked"
						if !acked {
							verdict = "not acked"
						}
						line := fmt.Sprintf("%-44s %-9s gen %-3d raw %4d  %9d rows  %v  %s", r.Partition, r.Outcome, r.Generation, r.RawObjects, r.Records, r.Duration.Round(time.Millisecond), verdict)
						if r.Partition == (loglake.Partition{}) {
							line = "malformed message acked"
						}
						if r.Err != nil {
							line += "  error: " + r.Err.Error()
						}
						fmt.Fprintln(e.stderr, line)
					},
				}
				err = w.Run(ctx, sub)
				st := w.Stats()
				fmt.Fprintf(e.stderr, "received %d, acked %d, not acked %d, malformed %d messages\n", st.Received, st.Acked, st.Nacked, st.Malformed)
				if errors.Is(err, context.Canceled) && ctx.Err() != nil {
					return nil // interrupted: a normal way to stop a worker
				}
				return err
			}
		},
	})
}

// dispatchPartitions is compact --dispatch: publish the plan's partitions
// to the topic at topicURL.
func dispatchPartitions(ctx context.Context, e *env, c *compact.Compactor, topicURL string, plan compact.Plan) error {
	topic, err := pubsub.OpenTopic(ctx, topicURL)
	if err != nil {
		return fmt.Errorf("open topic: %w", err)
	}
	start := time.Now()
	sent, err := c.Dispatch(ctx, topic, plan)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if serr := topic.Shutdown(sctx); err == nil && serr != nil {
		err = fmt.Errorf("shut down topic: %w", serr)
	}
	fmt.Fprintf(e.stderr, "dispatched %d partitions in %v\n", len(sent), time.Since(start).Round(time.Millisecond))
	return err
}
