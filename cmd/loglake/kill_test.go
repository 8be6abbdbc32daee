package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loglake/loglake"
	"github.com/loglake/loglake/internal/gen"
	"github.com/loglake/loglake/internal/rawcodec"
)

// envChild is set ("1") in a child process: the test binary re-executed as
// the loglake command, with the command's arguments, so that a test can
// kill it.
const envChild = "LOGLAKE_CLI_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		os.Exit(run(context.Background(), &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// lakeFiles returns the lake's objects under raw/ and errors/, decoded, by
// key, and the number of temporary files of killed writers
// (<key>.<hex>.tmp, which readers skip and compaction removes); it fails t
// on any other file but the settings.
func lakeFiles(t *testing.T, dir string) (map[string]string, int) {
	t.Helper()
	out := map[string]string{}
	temps := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == dir {
			return nil // killed before it made the lake
		}
		if err != nil || d.IsDir() {
			return err
		}
		key, _ := filepath.Rel(dir, path)
		key = filepath.ToSlash(key)
		if key == loglake.SettingsKey {
			return nil
		}
		if rawcodec.IsWriterTemp(key) {
			temps++
			return nil
		}
		codec, ok := rawcodec.FromKey(key)
		if !ok || !(strings.HasPrefix(key, "raw/") || strings.HasPrefix(key, "errors/")) {
			t.Errorf("unexpected file %s", key)
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		plain, err := rawcodec.AppendDecoded(nil, data, codec)
		if err != nil {
			t.Errorf("%s: %v", key, err)
		}
		out[key] = string(plain)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, temps
}

// TestIngestKilledAndRerun kills `loglake ingest` with SIGKILL at random
// moments, reruns it to completion, and counts: the lake then holds every
// record of the input once, in exactly the objects of a run that was never
// interrupted.
func TestIngestKilledAndRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CLI in child processes")
	}
	dir := t.TempDir()
	g := gen.New(gen.Config{Tenants: 6, Days: 4})
	var data, buf []byte
	for g.Records < 150_000 {
		buf, _ = g.AppendEnvelope(buf[:0])
		data = append(append(data, buf...), '\n')
		if g.Envelopes%500 == 0 {
			data = append(data, `{"tenant_id":"../x","log":[{"n":1}]}`+"\n"...) // a dead letter
		}
	}
	deadLetters := g.Envelopes / 500
	input := filepath.Join(dir, "in.ndjson")
	if err := os.WriteFile(input, data, 0o644); err != nil {
		t.Fatal(err)
	}
	args := func(lake string) []string {
		return []string{"ingest", "--batch-mib", "1", "--lake", lake, input}
	}

	// The reference: one run, never interrupted.
	ref := filepath.Join(dir, "ref")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}, args(ref)); code != 0 {
		t.Fatalf("reference run: exit %d: %s", code, errOut.String())
	}
	want, _ := lakeFiles(t, ref)
	records, dead := 0, 0
	for key, text := range want {
		n := strings.Count(text, "\n")
		if strings.HasPrefix(key, "raw/") {
			records += n
		} else {
			dead += n
		}
	}
	if records != g.Records || dead != deadLetters {
		t.Fatalf("reference run: %d records, %d dead letters; want %d, %d", records, dead, g.Records, deadLetters)
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	lake := filepath.Join(dir, "lake")
	killed := 0
	for attempt := 0; attempt < 4; attempt++ {
		cmd := exec.Command(os.Args[0], args(lake)...)
		cmd.Env = append(os.Environ(), envChild+"=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		after := time.Duration(20+rng.IntN(400)) * time.Millisecond
		timer := time.AfterFunc(after, func() { cmd.Process.Kill() })
		err := cmd.Wait()
		if timer.Stop() {
			t.Logf("attempt %d ended before the kill after %v: %v %s", attempt, after, err, stderr.String())
			continue
		}
		killed++
		objs, temps := lakeFiles(t, lake)
		t.Logf("attempt %d killed after %v: %d objects and %d temporary files in the lake", attempt, after, len(objs), temps)
	}
	if killed == 0 {
		t.Log("no attempt was killed before it ended")
	}
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}, args(lake)); code != 0 {
		t.Fatalf("final run: exit %d: %s", code, errOut.String())
	}
	got, _ := lakeFiles(t, lake)
	for key, text := range want {
		switch g, ok := got[key]; {
		case !ok:
			t.Errorf("missing %s", key)
		case g != text:
			t.Errorf("%s differs from the reference's", key)
		}
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("%s is not in the reference: records stored twice", key)
		}
	}
}
