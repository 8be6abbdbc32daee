// Lambda is an AWS Lambda function that ingests a Kinesis data stream into
// a loglake lake: each Kinesis record's data (an envelope, a bare record or
// NDJSON of either) is split into records, partitioned by tenant and day,
// and written to the lake before the function returns. The response names
// the records that did not land (a partial batch response), so Lambda
// retries only those, and a retried record overwrites its own objects
// instead of adding copies. See README.md for the deployment settings.
//
// Build for the provided.al2023 runtime (arm64):
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -o bootstrap ./examples/lambda
//	zip lambda.zip bootstrap
//
// # Environment
//
//   - LOGLAKE_URL (required): the lake, e.g. "s3://my-bucket?prefix=lake/"
//     (the region comes from AWS_REGION, which Lambda sets).
//   - LOGLAKE_CARRY_FIELDS: envelope fields copied into each record,
//     comma-separated, e.g. "device_id,agent_version".
//   - AWS_LAMBDA_FUNCTION_MEMORY_SIZE (set by Lambda): the Ingestor's memory
//     budget (MaxBufferedBytes) is a quarter of the function's memory.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/loglake/loglake"
)

// Environment variables read by main.
const (
	EnvURL         = "LOGLAKE_URL"
	EnvCarryFields = "LOGLAKE_CARRY_FIELDS"
	// EnvMemorySize is set by Lambda to the function's memory in MB.
	EnvMemorySize = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
)

// initTimeout bounds opening the lake: Lambda gives a function's init
// phase 10 s.
const initTimeout = 8 * time.Second

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	url, cfg, err := configFromEnv(os.Getenv)
	if err != nil {
		log.Error("configuration", "err", err)
		os.Exit(1)
	}
	cfg.Logger = log
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	h, err := OpenHandler(ctx, url, cfg)
	cancel()
	if err != nil {
		log.Error("open lake", "err", err)
		os.Exit(1)
	}
	// The Handler lives as long as the execution environment; nothing is
	// buffered between invocations, so it needs no shutdown hook.
	lambda.Start(h.Handle)
}

// configFromEnv reads the lake URL and the Handler's configuration from
// the environment.
func configFromEnv(getenv func(string) string) (string, Config, error) {
	var cfg Config
	url := getenv(EnvURL)
	if url == "" {
		return "", cfg, fmt.Errorf("%w: lambda: %s is not set (want a lake URL such as s3://bucket?prefix=lake/)", loglake.ErrInvalidOptions, EnvURL)
	}
	if s := getenv(EnvCarryFields); s != "" {
		for f := range strings.SplitSeq(s, ",") {
			if f = strings.TrimSpace(f); f != "" {
				cfg.Ingest.CarryFields = append(cfg.Ingest.CarryFields, f)
			}
		}
	}
	if s := getenv(EnvMemorySize); s != "" {
		mb, err := strconv.ParseInt(s, 10, 64)
		if err != nil || mb <= 0 {
			return "", cfg, fmt.Errorf("%w: lambda: %s %q: want a positive number of MB", loglake.ErrInvalidOptions, EnvMemorySize, s)
		}
		// A quarter of the memory for buffers and uploads in flight
		// leaves the rest to compression, the SDK and the runtime.
		cfg.Ingest.MaxBufferedBytes = mb << 20 / 4
	}
	return url, cfg, nil
}
