package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/seed62486500/resizer/engine/storage"
)

// MaxAssetBytes bounds a file a step names (a watermark image).
const MaxAssetBytes = 16 << 20

const assetTTL = 5 * time.Minute

// Assets loads the files that steps name, such as watermark images, from
// the local file system or from S3, and keeps them for a few minutes so that
// a busy recipe does not fetch its logo for every image.
type Assets struct {
	store *storage.Store
	dir   string

	mu    sync.Mutex
	cache map[string]asset
}

type asset struct {
	data []byte
	at   time.Time
}

// NewAssets returns an Assets that resolves relative paths against dir (the
// recipes directory) and fetches s3:// references through store.
func NewAssets(store *storage.Store, dir string) *Assets {
	return &Assets{store: store, dir: dir, cache: map[string]asset{}}
}

// Load returns the bytes of ref: "s3://bucket/key", "s3:key" (a key in the
// source's bucket) or a file path.
func (a *Assets) Load(ctx context.Context, bucket, ref string) ([]byte, error) {
	id := ref
	if strings.HasPrefix(ref, "s3:") && !strings.HasPrefix(ref, "s3://") {
		id = "s3://" + bucket + "/" + strings.TrimPrefix(ref, "s3:")
	}
	a.mu.Lock()
	if c, ok := a.cache[id]; ok && time.Since(c.at) < assetTTL {
		a.mu.Unlock()
		return c.data, nil
	}
	a.mu.Unlock()

	var data []byte
	var err error
	if rest, ok := strings.CutPrefix(id, "s3://"); ok {
		b, key, _ := strings.Cut(rest, "/")
		data, err = a.fetch(ctx, b, key)
	} else {
		data, err = a.read(ref)
	}
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.cache[id] = asset{data: data, at: time.Now()}
	a.mu.Unlock()
	return data, nil
}

func (a *Assets) read(path string) ([]byte, error) {
	if !filepath.IsAbs(path) {
		path = filepath.Join(a.dir, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxAssetBytes+1))
	if err == nil && len(data) > MaxAssetBytes {
		return nil, fmt.Errorf("%s is over %d bytes: %w", path, MaxAssetBytes, storage.ErrTooLarge)
	}
	return data, err
}

func (a *Assets) fetch(ctx context.Context, bucket, key string) ([]byte, error) {
	if a.store == nil {
		return nil, fmt.Errorf("no S3 store to fetch s3://%s/%s", bucket, key)
	}
	obj, err := a.store.Fetch(ctx, bucket, key, "")
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	if obj.Size > MaxAssetBytes {
		return nil, fmt.Errorf("s3://%s/%s is over %d bytes: %w", bucket, key, MaxAssetBytes, storage.ErrTooLarge)
	}
	return io.ReadAll(obj.File)
}
