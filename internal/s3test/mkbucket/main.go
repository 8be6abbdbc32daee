// Command mkbucket creates the bucket named by LOGLAKE_TEST_S3_URL on the
// S3-compatible test server (scripts/minio.sh runs it after starting
// MinIO). An existing bucket is fine.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/loglake/loglake/internal/s3test"
)

func main() {
	u := os.Getenv(s3test.EnvURL)
	if u == "" {
		fmt.Fprintf(os.Stderr, "mkbucket: %s is not set\n", s3test.EnvURL)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s3test.EnsureBucket(ctx, u); err != nil {
		fmt.Fprintln(os.Stderr, "mkbucket:", err)
		os.Exit(1)
	}
}
