package awslocal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/johannesboyne/gofakes3"
)

// dirStore mirrors buckets and objects into a directory so that a local
// run survives a restart: DIR/<bucket>/<key> holds the bytes and
// DIR/.meta/<bucket>/<key> the metadata as JSON. Objects are served from
// memory; the directory is read once at start. A nil *dirStore does nothing.
type dirStore struct {
	root string
}

const metaDir = ".meta"

func newDirStore(root string) (*dirStore, error) {
	if err := os.MkdirAll(filepath.Join(root, metaDir), 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	return &dirStore{root: root}, nil
}

// keyPath maps a key to a relative file path, refusing keys that a file
// tree cannot hold (folder markers ending in "/", "." and ".." segments).
func keyPath(key string) (string, error) {
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.ContainsRune(seg, 0) {
			return "", fmt.Errorf("key %q cannot be stored as a file", key)
		}
	}
	return filepath.FromSlash(key), nil
}

func (d *dirStore) createBucket(name string) error {
	if d == nil {
		return nil
	}
	return os.MkdirAll(filepath.Join(d.root, name), 0o755)
}

func (d *dirStore) deleteBucket(name string) error {
	if d == nil {
		return nil
	}
	if err := os.RemoveAll(filepath.Join(d.root, name)); err != nil {
		return err
	}
	return os.RemoveAll(filepath.Join(d.root, metaDir, name))
}

func (d *dirStore) putObject(bucket, key string, meta map[string]string, data []byte) error {
	if d == nil {
		return nil
	}
	rel, err := keyPath(key)
	if err != nil {
		return err
	}
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		path string
		data []byte
	}{
		{filepath.Join(d.root, bucket, rel), data},
		{filepath.Join(d.root, metaDir, bucket, rel), metaJSON},
	} {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			return err
		}
		// Write then rename, so a crash never leaves half an object.
		tmp := f.path + ".partial"
		if err := os.WriteFile(tmp, f.data, 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, f.path); err != nil {
			return err
		}
	}
	return nil
}

func (d *dirStore) deleteObject(bucket, key string) {
	if d == nil {
		return
	}
	rel, err := keyPath(key)
	if err != nil {
		return
	}
	_ = os.Remove(filepath.Join(d.root, bucket, rel))
	_ = os.Remove(filepath.Join(d.root, metaDir, bucket, rel))
}

// load copies every stored bucket and object into backend.
func (d *dirStore) load(backend gofakes3.Backend) error {
	if d == nil {
		return nil
	}
	entries, err := os.ReadDir(d.root)
	if err != nil {
		return fmt.Errorf("read data dir: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		bucket := e.Name()
		if err := backend.CreateBucket(bucket); err != nil {
			return fmt.Errorf("restore bucket %s: %w", bucket, err)
		}
		base := filepath.Join(d.root, bucket)
		err := filepath.WalkDir(base, func(path string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() || strings.HasSuffix(path, ".partial") {
				return err
			}
			rel, _ := filepath.Rel(base, path)
			key := filepath.ToSlash(rel)
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			meta := map[string]string{}
			if raw, err := os.ReadFile(filepath.Join(d.root, metaDir, bucket, rel)); err == nil {
				_ = json.Unmarshal(raw, &meta)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			if _, err := backend.PutObject(bucket, key, meta, bytes.NewReader(data), int64(len(data)), nil); err != nil {
				return fmt.Errorf("restore %s/%s: %w", bucket, key, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
