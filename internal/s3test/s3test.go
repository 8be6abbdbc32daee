// Package s3test connects loglake's tests to an S3-compatible server: it
// reads the endpoint from the environment, decides whether a test without
// one skips or fails, and creates the test bucket.
//
// The server itself is started outside the tests, by scripts/minio.sh (CI
// does it in .ci/run). No package of the module imports the server: it is a
// separate binary, run only while testing.
//
// # Environment
//
//   - LOGLAKE_TEST_S3_URL: a gocloud.dev s3blob URL, e.g.
//     "s3://loglake-test?endpoint=http://127.0.0.1:9000&use_path_style=true&disable_https=true&region=us-east-1".
//   - AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: the server's credentials.
//   - CI: "true" makes a missing LOGLAKE_TEST_S3_URL a test failure rather
//     than a skip, so CI can never pass without having run against S3.
package s3test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/s3blob" // s3:// URLs
)

// EnvURL is the environment variable that holds the S3 URL of the tests.
const EnvURL = "LOGLAKE_TEST_S3_URL"

// SkipMessage is what a test without an S3 endpoint says when it skips.
const SkipMessage = "set " + EnvURL + " (see scripts/minio.sh) to run against S3"

// URL returns the S3 URL the tests run against. Without one it skips the
// test with [SkipMessage], or, when CI=true, fails it: CI must run the S3
// tests.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u != "" {
		return u
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but %s is not set: CI must run the S3 tests (.ci/run starts MinIO with scripts/minio.sh)", EnvURL)
	}
	t.Skip(SkipMessage)
	return ""
}

// Client returns the AWS SDK client of an s3blob URL and the bucket name
// (the URL's host), configured exactly as gocloud configures it.
func Client(ctx context.Context, urlstr string) (*s3.Client, string, error) {
	u, err := url.Parse(urlstr)
	if err != nil {
		return nil, "", fmt.Errorf("s3test: %s: %w", EnvURL, err)
	}
	if u.Scheme != "s3" || u.Host == "" {
		return nil, "", fmt.Errorf("s3test: %s: want s3://<bucket>?endpoint=…, got scheme %q host %q", EnvURL, u.Scheme, u.Host)
	}
	// Open the bucket just to borrow its client; As is gocloud's escape hatch.
	q := u.Query()
	q.Del("prefix")
	u.RawQuery = q.Encode()
	b, err := blob.OpenBucket(ctx, u.String())
	if err != nil {
		return nil, "", fmt.Errorf("s3test: open %s: %w", u.Redacted(), err)
	}
	defer b.Close()
	var c *s3.Client
	if !b.As(&c) {
		return nil, "", fmt.Errorf("s3test: %s is not an s3blob bucket", u.Redacted())
	}
	return c, u.Host, nil
}

// EnsureBucket creates the bucket of urlstr if it does not exist yet.
func EnsureBucket(ctx context.Context, urlstr string) error {
	c, name, err := Client(ctx, urlstr)
	if err != nil {
		return err
	}
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	var owned *types.BucketAlreadyOwnedByYou
	var exists *types.BucketAlreadyExists
	if err == nil || errors.As(err, &owned) || errors.As(err, &exists) {
		return nil
	}
	return fmt.Errorf("s3test: create bucket %s: %w", name, err)
}
