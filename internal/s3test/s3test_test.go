package s3test_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/loglake/loglake/internal/s3test"
)

// TestConditionalPut shows that the server honours S3's create-only PUT
// (If-None-Match: *), the primitive under loglake's manifest commit: the
// first PUT of a key succeeds, the second fails with 412 Precondition
// Failed, and the object keeps the first body. It talks to the server with
// the AWS SDK directly, below gocloud, so a pass means the server itself
// implements the condition.
func TestConditionalPut(t *testing.T) {
	ctx := context.Background()
	u := s3test.URL(t)
	if err := s3test.EnsureBucket(ctx, u); err != nil {
		t.Fatal(err)
	}
	c, bucket, err := s3test.Client(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	key := "s3test-" + hex.EncodeToString(rnd[:]) + "/_manifest/00000001.json"
	defer c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})

	put := func(body string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{
			Bucket:      aws.String(bucket),
			Key:         aws.String(key),
			Body:        bytes.NewReader([]byte(body)),
			IfNoneMatch: aws.String("*"),
		})
		return err
	}
	if err := put("first"); err != nil {
		t.Fatalf("first conditional PUT: %v", err)
	}
	err = put("second")
	if err == nil {
		t.Fatal("second conditional PUT of the same key succeeded; the server ignores If-None-Match: *")
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusPreconditionFailed {
		t.Fatalf("second conditional PUT = %v, want HTTP 412", err)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "PreconditionFailed" {
		t.Errorf("second conditional PUT error code = %v, want PreconditionFailed (gocloud maps it to FailedPrecondition)", err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	got, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "first" {
		t.Errorf("object = %q after a refused PUT, want %q", got, "first")
	}
}

func TestURLWithoutEnv(t *testing.T) {
	t.Setenv(s3test.EnvURL, "")
	t.Setenv("CI", "")
	var sub *testing.T
	t.Run("skips", func(t *testing.T) {
		sub = t
		s3test.URL(t)
		t.Error("URL returned without an endpoint")
	})
	if sub == nil || !sub.Skipped() {
		t.Error("without an endpoint and CI unset, URL did not skip the test")
	}
}
