package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
)

// A Kinesis event of two records, one an envelope of two log records and
// one malformed: both are handled (the second lands in errors/), so the
// partial batch response names no failures.
func ExampleHandler_Handle() {
	ctx := context.Background()
	h, err := OpenHandler(ctx, "mem://", Config{})
	if err != nil {
		panic(err)
	}
	defer h.Close(ctx)

	record := func(seq string, data string) events.KinesisEventRecord {
		return events.KinesisEventRecord{
			EventID:        "shardId-000000000000:" + seq,
			EventSourceArn: "arn:aws:kinesis:ap-northeast-1:123456789012:stream/pc-logs",
			Kinesis:        events.KinesisRecord{SequenceNumber: seq, Data: []byte(data)},
		}
	}
	resp, err := h.Handle(ctx, events.KinesisEvent{Records: []events.KinesisEventRecord{
		record("49590338271490256608559692538361571095921575989136588801",
			`{"tenant_id":"acme","device_id":"pc-1","log":[`+
				`{"timestamp":"2026-11-20T09:00:00Z","file_path":"C:\\社外秘\\plan.docx"},`+
				`{"timestamp":"2026-11-20T09:00:03Z","url":"https://example.com/"}]}`),
		record("49590338271490256608559692538361571095921575989136588802", `{"tenant_id":"acme","log":[`),
	}})
	if err != nil {
		panic(err)
	}
	st := h.Stats()
	fmt.Println("failures:", len(resp.BatchItemFailures))
	fmt.Println("written:", st.Written, "dead letters:", st.DeadWritten)
	id, _ := BatchID(record("49590338271490256608559692538361571095921575989136588801", ""))
	fmt.Println("batch id:", id)
	// Output:
	// failures: 0
	// written: 2 dead letters: 1
	// batch id: arn:aws:kinesis:ap-northeast-1:123456789012:stream/pc-logs/shardId-000000000000/49590338271490256608559692538361571095921575989136588801
}
