package multiproc

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/compact"
	"github.com/loglake/loglake/internal/s3test"
)

// Environment of a compactor process (the re-executed test binary).
const (
	envChild = "LOGLAKE_MULTIPROC_CHILD" // its CommitterID; set only in children
	envLake  = "LOGLAKE_MULTIPROC_LAKE"  // the lake URL
	envPause = "LOGLAKE_MULTIPROC_PAUSE" // "1": stop for good inside the first partition
)

// leaseTTL is the children's lease TTL: short, so that the partition of
// the killed process is taken over within seconds.
const leaseTTL = 2 * time.Second

// event is one JSON line a child prints.
type event struct {
	Event     string `json:"event"` // ready, paused, leased, done, end
	Partition string `json:"partition,omitempty"`
	Outcome   string `json:"outcome,omitempty"`
	Records   int64  `json:"records,omitempty"`
	Err       string `json:"err,omitempty"`
}

func TestMain(m *testing.M) {
	if id := os.Getenv(envChild); id != "" {
		os.Exit(child(id))
	}
	os.Exit(m.Run())
}

// child is a compactor process: `loglake compact --all` with leases, which
// reports each partition as a JSON line on stdout. It starts compacting
// when a line arrives on stdin, so that all processes start together. With
// envPause it stops inside its first partition — it holds the lease and
// has written a file, but not committed — until it is killed.
func child(id string) int {
	ctx := context.Background()
	var mu sync.Mutex
	emit := func(e event) {
		b, _ := json.Marshal(e)
		mu.Lock()
		defer mu.Unlock()
		os.Stdout.Write(append(b, '\n'))
	}
	lake, err := loglake.Open(ctx, os.Getenv(envLake), loglake.WithMustExist())
	if err != nil {
		emit(event{Event: "end", Err: err.Error()})
		return 1
	}
	defer lake.Close()
	pause := os.Getenv(envPause) == "1"
	var pauseOnce sync.Once
	c, err := compact.New(lake, &compact.Options{
		CommitterID: id,
		LeaseTTL:    leaseTTL,
		Concurrency: 2,
		MaxAttempts: 2,
		Hooks: compact.Hooks{
			AfterStep: func(p loglake.Partition, s compact.Step, _ string) error {
				switch {
				case pause && s == compact.StepWroteFile:
					pauseOnce.Do(func() {
						emit(event{Event: "paused", Partition: p.Key()})
						select {} // until SIGKILL
					})
				case s == compact.StepReadManifest:
					time.Sleep(40 * time.Millisecond) // a partition takes a while, so the work spreads
				}
				return nil
			},
			OnLeased: func(e *compact.LeasedError) { emit(event{Event: "leased", Partition: e.Partition.Key()}) },
			OnDone: func(r compact.Result, err error) {
				e := event{Event: "done", Partition: r.Partition.Key(), Outcome: string(r.Outcome), Records: r.Records}
				if err != nil {
					e.Err = err.Error()
				}
				emit(e)
			},
		},
	})
	if err != nil {
		emit(event{Event: "end", Err: err.Error()})
		return 1
	}
	emit(event{Event: "ready"})
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		emit(event{Event: "end", Err: "stdin: " + err.Error()})
		return 1
	}
	_, err = c.Run(ctx, compact.Plan{All: true})
	if err != nil {
		emit(event{Event: "end", Err: err.Error()})
		return 1
	}
	emit(event{Event: "end"})
	return 0
}

// proc is a running child.
type proc struct {
	id     string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan event // closed at EOF
	stderr bytes.Buffer
	mu     sync.Mutex
	seen   []event
}

func start(t *testing.T, lakeURL, id string, pause bool) *proc {
	t.Helper()
	p := &proc{id: id, events: make(chan event, 256)}
	p.cmd = exec.Command(os.Args[0], "-test.run=^$")
	p.cmd.Env = append(os.Environ(), envChild+"="+id, envLake+"="+lakeURL)
	if pause {
		p.cmd.Env = append(p.cmd.Env, envPause+"=1")
	}
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	go func() {
		defer close(p.events)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var e event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				continue // not ours (the testing package's own output)
			}
			p.mu.Lock()
			p.seen = append(p.seen, e)
			p.mu.Unlock()
			p.events <- e
		}
	}()
	return p
}

// await reads p's events until one named name, failing after a generous
// bound (a hang guard, not a timing assertion).
func (p *proc) await(t *testing.T, name string) event {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case e, ok := <-p.events:
			if !ok {
				t.Fatalf("%s exited before %q; stderr:\n%s", p.id, name, p.stderr.String())
			}
			if e.Event == name {
				return e
			}
		case <-timeout:
			t.Fatalf("%s: no %q event", p.id, name)
		}
	}
}

// TestKilledCompactor runs four compactor processes on one lake. One stops
// inside a partition, holding its lease, and is killed with SIGKILL; the
// other three split the partitions, wait out the dead one's lease and
// compact its partition too. Then every partition is compacted (no raw
// object uncovered), each record reads exactly once, and every surviving
// process compacted at least one partition.
func TestKilledCompactor(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		run(t, "file://"+t.TempDir())
	})
	t.Run("s3", func(t *testing.T) {
		u := s3test.URL(t)
		if err := s3test.EnsureBucket(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		var rnd [6]byte
		rand.Read(rnd[:])
		q := pu.Query()
		q.Set("prefix", strings.TrimSuffix(q.Get("prefix"), "/")+"multiproc-"+hex.EncodeToString(rnd[:])+"/")
		pu.RawQuery = q.Encode()
		run(t, pu.String())
	})
}

func run(t *testing.T, lakeURL string) {
	ctx := context.Background()
	lake, err := loglake.Open(ctx, lakeURL)
	if err != nil {
		t.Fatal(err)
	}
	defer lake.Close()
	t.Cleanup(func() { // the S3 bucket is shared: leave nothing behind
		for obj, err := range lake.List(ctx, "", "") {
			if err != nil {
				return
			}
			lake.Delete(ctx, obj.Key)
		}
	})

	// 6 tenants × 3 days, 3 raw objects of 40 records each; seq numbers
	// every record.
	const tenants, days, objects, perObject = 6, 3, 3, 40
	var parts []loglake.Partition
	today := lake.Today()
	seq := 0
	for ti := range tenants {
		for di := range days {
			p := loglake.Partition{Tenant: fmt.Sprintf("t%02d", ti), Day: today.AddDays(-1 - di)}
			parts = append(parts, p)
			for o := range objects {
				var buf bytes.Buffer
				for range perObject {
					fmt.Fprintf(&buf, `{"tenant_id":%q,"timestamp":"%sT%02d:04:05Z","seq":%d,"msg":"record %d"}`+"\n", p.Tenant, p.Day, seq%24, seq, seq)
					seq++
				}
				key := p.Prefix(loglake.AreaRaw) + fmt.Sprintf("w-%d", o) + loglake.CompressionNone.Ext()
				if err := lake.WriteAll(ctx, key, buf.Bytes(), nil); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	total := seq

	// The victim first: it takes a lease and stops inside that partition.
	victim := start(t, lakeURL, "victim", true)
	victim.await(t, "ready")
	fmt.Fprintln(victim.stdin)
	paused := victim.await(t, "paused")

	var survivors []*proc
	for i := range 3 {
		survivors = append(survivors, start(t, lakeURL, fmt.Sprintf("s%d", i), false))
	}
	for _, s := range survivors {
		s.await(t, "ready")
	}
	for _, s := range survivors {
		fmt.Fprintln(s.stdin)
	}
	if err := victim.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	victim.cmd.Wait()

	for _, s := range survivors {
		if e := s.await(t, "end"); e.Err != "" {
			t.Errorf("%s: %s\nstderr:\n%s", s.id, e.Err, s.stderr.String())
		}
		if err := s.cmd.Wait(); err != nil {
			t.Errorf("%s: %v", s.id, err)
		}
	}

	// Who did what.
	compacted := map[string][]string{} // partition → processes that committed it
	perProc := map[string]int{}
	leased, conflicts := 0, 0
	for _, s := range survivors {
		s.mu.Lock()
		for _, e := range s.seen {
			switch {
			case e.Event == "leased":
				leased++
			case e.Event == "done" && e.Outcome == string(compact.OutcomeCompacted):
				compacted[e.Partition] = append(compacted[e.Partition], s.id)
				perProc[s.id]++
			case e.Event == "done" && e.Outcome == string(compact.OutcomeConflict):
				conflicts++
			}
		}
		s.mu.Unlock()
	}
	t.Logf("victim stopped in %s; compactions per process %v; %d times leased elsewhere; %d lost commit races", paused.Partition, perProc, leased, conflicts)
	for _, s := range survivors {
		if perProc[s.id] == 0 {
			t.Errorf("%s compacted no partition: the work did not spread", s.id)
		}
	}
	if len(compacted[paused.Partition]) == 0 {
		t.Errorf("no survivor compacted %s, the victim's partition", paused.Partition)
	}

	// Every partition compacted once, every record read once.
	read := 0
	for _, p := range parts {
		if by := compacted[p.Key()]; len(by) != 1 {
			t.Errorf("%s committed by %v, want exactly one process", p, by)
		}
		recs, v, err := compact.ReadAll(ctx, lake, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Raw) != 0 || v.Generation == 0 {
			t.Errorf("%s: generation %d, %d raw objects not compacted", p, v.Generation, len(v.Raw))
		}
		seen := map[int64]bool{}
		for _, r := range recs {
			s, ok := r["seq"].(int64)
			if !ok || seen[s] {
				t.Fatalf("%s: seq %v missing or read twice", p, r["seq"])
			}
			seen[s] = true
		}
		read += len(recs)
	}
	if read != total {
		t.Errorf("read %d records, wrote %d", read, total)
	}
}
