// Package storage downloads source objects from S3 into private temp files
// and uploads rendered outputs.
package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// ErrNotFound means the object (or the requested version) no longer exists.
var ErrNotFound = errors.New("object not found")

// ErrTooLarge means the object is over the configured size cap.
var ErrTooLarge = errors.New("object too large")

// Store talks to one S3-compatible service.
type Store struct {
	client   *s3.Client
	tempDir  string
	maxBytes int64
}

// New returns a Store that downloads into tempDir (created 0700 if missing)
// and refuses objects larger than maxBytes.
func New(client *s3.Client, tempDir string, maxBytes int64) (*Store, error) {
	if err := os.MkdirAll(tempDir, 0o700); err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	// MkdirAll keeps the mode of an existing directory; tighten it.
	if err := os.Chmod(tempDir, 0o700); err != nil {
		return nil, fmt.Errorf("secure temp dir: %w", err)
	}
	sweepTemp(tempDir)
	return &Store{client: client, tempDir: tempDir, maxBytes: maxBytes}, nil
}

// tempPrefix starts the name of every download of process pid, so that
// files left by a process that died (SIGKILL, a crash) can be told apart
// from those of another daemon sharing the directory.
func tempPrefix(pid int) string { return "src-" + strconv.Itoa(pid) + "-" }

// sweepTemp removes downloads left in dir by processes that no longer run.
func sweepTemp(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "src-")
		if !ok {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || processRuns(pid) {
			continue
		}
		os.Remove(filepath.Join(dir, e.Name()))
	}
}

// Object is a downloaded source held in a temp file. Call Close to remove it.
type Object struct {
	Bucket      string
	Key         string
	VersionID   string
	ETag        string
	Size        int64
	ContentType string
	File        *os.File
}

// Close closes and removes the temp file.
func (o *Object) Close() error {
	if o == nil || o.File == nil {
		return nil
	}
	name := o.File.Name()
	cerr := o.File.Close()
	rerr := os.Remove(name)
	o.File = nil
	return errors.Join(cerr, rerr)
}

// Fetch checks the object's size with HeadObject, then downloads it to a temp
// file whose name is generated (never derived from the key). versionID may be
// empty. The returned Object's File is positioned at the start.
func (s *Store) Fetch(ctx context.Context, bucket, key, versionID string) (*Object, error) {
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket:    aws.String(bucket),
		Key:       aws.String(key),
		VersionId: optional(versionID),
	})
	if err != nil {
		return nil, s.wrap("head", bucket, key, err)
	}
	size := aws.ToInt64(head.ContentLength)
	if size > s.maxBytes {
		return nil, fmt.Errorf("s3://%s/%s is %d bytes, over the %d byte limit: %w", bucket, key, size, s.maxBytes, ErrTooLarge)
	}
	etag := strings.Trim(aws.ToString(head.ETag), `"`)

	in := &s3.GetObjectInput{
		Bucket:    aws.String(bucket),
		Key:       aws.String(key),
		VersionId: optional(versionID),
	}
	if versionID == "" && etag != "" {
		// Download the bytes HeadObject described, not a newer upload.
		in.IfMatch = aws.String(`"` + etag + `"`)
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, s.wrap("get", bucket, key, err)
	}
	defer out.Body.Close()

	f, err := os.CreateTemp(s.tempDir, tempPrefix(os.Getpid())+"*")
	if err != nil {
		return nil, fmt.Errorf("create temp file for s3://%s/%s: %w", bucket, key, err)
	}
	obj := &Object{
		Bucket:      bucket,
		Key:         key,
		VersionID:   aws.ToString(out.VersionId),
		ETag:        strings.Trim(aws.ToString(out.ETag), `"`),
		ContentType: aws.ToString(out.ContentType),
		File:        f,
	}
	if obj.ETag == "" {
		obj.ETag = etag
	}
	// Read one byte past the cap so a body longer than HeadObject said is caught.
	n, err := io.Copy(f, io.LimitReader(out.Body, s.maxBytes+1))
	if err == nil && n > s.maxBytes {
		err = fmt.Errorf("s3://%s/%s grew past the %d byte limit while downloading: %w", bucket, key, s.maxBytes, ErrTooLarge)
	}
	if err == nil && out.ContentLength != nil && n != *out.ContentLength {
		err = fmt.Errorf("download s3://%s/%s: got %d of %d bytes", bucket, key, n, *out.ContentLength)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		obj.Close()
		if errors.Is(err, ErrTooLarge) {
			return nil, err
		}
		return nil, fmt.Errorf("download s3://%s/%s: %w", bucket, key, err)
	}
	obj.Size = n
	return obj, nil
}

// PutInput describes one upload.
type PutInput struct {
	Bucket       string
	Key          string
	Body         []byte
	ContentType  string
	CacheControl string
	Metadata     map[string]string
}

// Put uploads one object from memory and returns its ETag.
func (s *Store) Put(ctx context.Context, in PutInput) (string, error) {
	out, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(in.Bucket),
		Key:           aws.String(in.Key),
		Body:          bytes.NewReader(in.Body),
		ContentLength: aws.Int64(int64(len(in.Body))),
		ContentType:   optional(in.ContentType),
		CacheControl:  optional(in.CacheControl),
		Metadata:      in.Metadata,
	})
	if err != nil {
		return "", fmt.Errorf("upload s3://%s/%s: %w", in.Bucket, in.Key, err)
	}
	return strings.Trim(aws.ToString(out.ETag), `"`), nil
}

func (s *Store) wrap(op, bucket, key string, err error) error {
	if isNotFound(err) {
		return fmt.Errorf("%s s3://%s/%s: %w", op, bucket, key, ErrNotFound)
	}
	return fmt.Errorf("%s s3://%s/%s: %w", op, bucket, key, err)
}

func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
		return true
	}
	return false
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
