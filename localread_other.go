//go:build !unix

package loglake

import (
	"errors"
	"io/fs"
)

// localFile is not used where plain system calls are not available: reads
// go through fileblob.
type localFile struct{}

func openLocal(string) (*localFile, error) { return nil, fs.ErrNotExist }

func (f *localFile) Size() int64                       { return 0 }
func (f *localFile) Read([]byte) (int, error)          { return 0, errors.ErrUnsupported }
func (f *localFile) ReadAt([]byte, int64) (int, error) { return 0, errors.ErrUnsupported }
func (f *localFile) Close() error                      { return nil }
