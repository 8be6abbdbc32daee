//go:build !unix

package compact

import "time"

// cpuTime is unknown here; the per-CPU-second metric is left out.
func cpuTime() time.Duration { return 0 }
