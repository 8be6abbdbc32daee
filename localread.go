package loglake

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gocloud.dev/blob"
)

// ObjectReader reads one object from its start: what [Lake.OpenObject]
// returns. Size is the object's size when it was opened.
type ObjectReader interface {
	io.ReadCloser
	Size() int64
}

// OpenObject opens the object at key for reading from its start. The
// caller closes it. A missing object gives an error for which [IsNotFound]
// is true. On a file-backed lake the file is read directly, without the
// per-read stat and attribute lookups of gocloud's fileblob; elsewhere it
// is [Lake.NewReader].
func (l *Lake) OpenObject(ctx context.Context, key string) (ObjectReader, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	if path, ok := l.localPath(key); ok {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f, err := openLocal(path)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("loglake: read %s: %w", key, err)
		}
		// Missing: the backend says so in its own terms (IsNotFound).
	}
	return l.NewReader(ctx, key)
}

// ReadAt reads len(p) bytes of the object at key from offset off, as
// [io.ReaderAt] does: fewer bytes only with an error, io.EOF at the end of
// the object. A missing object gives an error for which [IsNotFound] is
// true. On a file-backed lake it is one positioned read of the file;
// elsewhere one range read.
func (l *Lake) ReadAt(ctx context.Context, key string, p []byte, off int64) (int, error) {
	if err := l.check(); err != nil {
		return 0, err
	}
	if path, ok := l.localPath(key); ok {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		f, err := openLocal(path)
		if err == nil {
			n, err := f.ReadAt(p, off)
			f.Close()
			if err != nil && err != io.EOF {
				err = fmt.Errorf("loglake: read %s: %w", key, err)
			}
			return n, err
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("loglake: read %s: %w", key, err)
		}
	}
	br, err := l.NewRangeReader(ctx, key, off, int64(len(p)))
	if err != nil {
		return 0, err
	}
	defer br.Close()
	n, err := io.ReadFull(br, p)
	switch {
	case err == io.ErrUnexpectedEOF || (err == io.EOF && len(p) > 0):
		err = io.EOF
	case err != nil:
		err = fmt.Errorf("loglake: read %s: %w", key, err)
	}
	return n, err
}

// readAllLocal reads the whole file of key in a file-backed lake. ok is
// false when the read must go through fileblob: not a file-backed lake, a
// key fileblob escapes, or a missing file (whose error fileblob words so
// that IsNotFound holds).
func (l *Lake) readAllLocal(ctx context.Context, key string) (data []byte, ok bool, err error) {
	path, ok := l.localPath(key)
	if !ok {
		return nil, false, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, true, err
	}
	f, err := openLocal(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, fmt.Errorf("loglake: read %s: %w", key, err)
	}
	defer f.Close()
	// One byte more than the size: a file that grew is read to its end.
	data = make([]byte, 0, f.Size()+1)
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, true, nil
		}
		if err != nil {
			return nil, true, fmt.Errorf("loglake: read %s: %w", key, err)
		}
		if len(data) == cap(data) {
			data = slices.Grow(data, len(data))
		}
	}
}

// LocalFiles reports whether the lake's objects are local files that
// reads go to directly (a file:// lake): small reads are then cheap, and
// readers may fetch less at a time than from object storage, where every
// read is a request.
func (l *Lake) LocalFiles() bool { return l.localDir != "" }

// localPath returns the file of key in a file-backed lake when reads may
// bypass fileblob: keys that fileblob stores under their own name (no
// escaping), inside the lake's directory.
func (l *Lake) localPath(key string) (string, bool) {
	if l.localDir == "" || !localKeyOK(key) || strings.Contains(key, "__0x") {
		return "", false
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "." || seg == ".." {
			return "", false
		}
	}
	return filepath.Join(l.localDir, filepath.FromSlash(key)), true
}

// listLocal lists one directory level of a file-backed lake — prefix ends
// with "/" (or is empty), delimiter "/" — by reading the directory, the
// way fileblob would list it: files (but fileblob's .attrs sidecars) as
// objects, subdirectories holding at least one file as "directories",
// names fileblob escapes or unescapes handled by fileblob itself. ok is
// false when this listing must go through fileblob: a directory with
// sidecars (whose MD5s fileblob reports) or names it would unescape.
func (l *Lake) listLocal(prefix string) (objs []*blob.ListObject, ok bool, err error) {
	if l.localDir == "" || (prefix != "" && !strings.HasSuffix(prefix, "/")) {
		return nil, false, nil
	}
	dir := l.localDir
	if prefix != "" {
		p, ok := l.localPath(strings.TrimSuffix(prefix, "/"))
		if !ok {
			return nil, false, nil
		}
		dir = p
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, nil // let fileblob decide (it skips unreadable directories)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".attrs") || strings.Contains(name, "__0x") {
			return nil, false, nil
		}
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			if hasFile(filepath.Join(dir, name)) {
				objs = append(objs, &blob.ListObject{Key: prefix + name + "/", IsDir: true})
			}
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted since the directory was read
		}
		if err != nil {
			return nil, false, err
		}
		objs = append(objs, &blob.ListObject{Key: prefix + name, ModTime: fi.ModTime(), Size: fi.Size()})
	}
	// Keys sort differently from names: "a/" comes after "a.b".
	slices.SortFunc(objs, func(a, b *blob.ListObject) int { return cmp.Compare(a.Key, b.Key) })
	return objs, true, nil
}

// hasFile reports whether the directory tree at dir holds a file (not a
// fileblob sidecar): fileblob shows a subdirectory only then.
func hasFile(dir string) bool {
	found := false
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if !d.IsDir() && !strings.HasSuffix(path, ".attrs") {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}
