//go:build unix

package compact

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time the process used so far: benchmarks report
// throughput per CPU-second too, which stays meaningful on a busy machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
