//go:build unix

package loglake

import (
	"io"
	"os"
	"syscall"
)

// localFile is a file of a file-backed lake opened for reading with plain
// system calls: no poller registration, no stat beyond the one that gives
// its size.
type localFile struct {
	fd   int
	size int64
	off  int64 // of the next Read
}

func openLocal(path string) (*localFile, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return nil, &os.PathError{Op: "open", Path: path, Err: syscall.ENOENT} // a directory is no object
	}
	return &localFile{fd: fd, size: st.Size}, nil
}

func (f *localFile) Size() int64 { return f.size }

func (f *localFile) Read(p []byte) (int, error) {
	n, err := f.ReadAt(p, f.off)
	f.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// ReadAt reads len(p) bytes from off, or fewer with io.EOF at the end.
func (f *localFile) ReadAt(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		n, err := syscall.Pread(f.fd, p[done:], off+int64(done))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return done, &os.PathError{Op: "read", Path: "", Err: err}
		}
		if n == 0 {
			return done, io.EOF
		}
		done += n
	}
	return done, nil
}

func (f *localFile) Close() error { return syscall.Close(f.fd) }
