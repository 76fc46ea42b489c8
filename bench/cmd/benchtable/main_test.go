package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.md from the current output")

var defaultBaselines = []string{"plain-json", "bare", "authvault"}

func TestRunGolden(t *testing.T) {
	for _, name := range []string{"sample"} {
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", name+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := run(bytes.NewReader(in), &out, defaultBaselines); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".md")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), out.String()); diff != "" {
				t.Errorf("table (-want +got):\n%s", diff)
			}
		})
	}
}

// note is the closing note for a run with GOMAXPROCS procs.
func note(procs string) string {
	return "\nAbsolute times come from a shared " + procs + "-core machine and move from run to run; " +
		"the ratios, each against its group's baseline, are what count.\n"
}

func TestRun(t *testing.T) {
	for _, c := range []struct {
		name      string
		in        string
		baselines []string
		want      string
		wantErr   error
	}{{
		name: "baseline, custom metric, GOMAXPROCS suffix",
		in: `goos: linux
goarch: amd64
pkg: example.com/bench
cpu: Some CPU @ 2.00GHz
BenchmarkStore/get/authvault-hot-2   	  381104	      2948 ns/op	    1088 B/op	       9 allocs/op
BenchmarkStore/get/plain-json-2      	   72904	     16569 ns/op	    2200 B/op	      34 allocs/op
BenchmarkRateLimited/authvault-2     	    1000	   1045307 ns/op	         2.000 upstream/op	   33545 B/op	     361 allocs/op
BenchmarkRateLimited/retryablehttp-2 	       1	1002306751 ns/op	         2.000 upstream/op	   43552 B/op	     309 allocs/op
PASS
ok  	example.com/bench	21.045s
`,
		want: `goos: linux · goarch: amd64 · cpu: Some CPU @ 2.00GHz · GOMAXPROCS: 2

| Benchmark | Alternative | time/op | vs baseline | allocs/op | upstream/op |
| --- | --- | ---: | ---: | ---: | ---: |
| Store/get | authvault-hot | 2.95 µs | 0.18× | 9 |  |
|  | plain-json *(baseline)* | 16.6 µs | 1.00× | 34 |  |
| RateLimited | authvault *(baseline)* | 1.05 ms | 1.00× | 361 | 2 |
|  | retryablehttp | 1.00 s | 959× | 309 | 2 |
` + note("2"),
	}, {
		name: "median of repeated runs",
		in: `BenchmarkSuccess/bare-2  10  100 ns/op  1 allocs/op
BenchmarkSuccess/authvault-2  10  150 ns/op  5 allocs/op
BenchmarkSuccess/bare-2  10  300 ns/op  3 allocs/op
BenchmarkSuccess/authvault-2  10  450 ns/op  5 allocs/op
BenchmarkSuccess/bare-2  10  200 ns/op  2 allocs/op
BenchmarkSuccess/authvault-2  10  400 ns/op  5 allocs/op
`,
		want: `GOMAXPROCS: 2

| Benchmark | Alternative | time/op | vs baseline | allocs/op |
| --- | --- | ---: | ---: | ---: |
| Success | bare *(baseline)* | 200 ns | 1.00× | 2 |
|  | authvault | 400 ns | 2.00× | 5 |
` + note("2"),
	}, {
		name:      "baseline chosen by the flag; none in a group",
		baselines: []string{"b"},
		in: `BenchmarkOne/a  10  1000 ns/op
BenchmarkOne/b  10  4000 ns/op
BenchmarkTwo/c  10  1000000 ns/op
BenchmarkSolo   10  5 ns/op
`,
		want: `GOMAXPROCS: 1

| Benchmark | Alternative | time/op | vs baseline | allocs/op |
| --- | --- | ---: | ---: | ---: |
| One | a | 1.00 µs | 0.25× |  |
|  | b *(baseline)* | 4.00 µs | 1.00× |  |
| Two | c | 1.00 ms | – |  |
| Solo |  | 5.00 ns | – |  |
` + note("1"),
	}, {
		name: "a benchmark's log lines are not results",
		in: `BenchmarkOne/a-2  10  1000 ns/op
Benchmark setup took a while
BenchmarkOne/a-2 says 1 thing
`,
		want: `GOMAXPROCS: 2

| Benchmark | Alternative | time/op | vs baseline | allocs/op |
| --- | --- | ---: | ---: | ---: |
| One | a | 1.00 µs | – |  |
` + note("2"),
	}, {
		name: "failed run",
		in: `BenchmarkOne/a-2  10  1000 ns/op
--- FAIL: BenchmarkOne/b
FAIL	example.com/bench	0.1s
`,
		wantErr: errFailed,
	}, {
		name:    "no results",
		in:      "PASS\nok  \texample.com/bench\t0.1s\n",
		wantErr: errNoResults,
	}} {
		t.Run(c.name, func(t *testing.T) {
			baselines := c.baselines
			if baselines == nil {
				baselines = defaultBaselines
			}
			var out bytes.Buffer
			err := run(strings.NewReader(c.in), &out, baselines)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("error %v, want %v", err, c.wantErr)
				}
				if out.Len() > 0 {
					t.Errorf("wrote %q on error", out.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, out.String()); diff != "" {
				t.Errorf("table (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{formatDuration(950), "950 ns"},
		{formatDuration(2948), "2.95 µs"},
		{formatDuration(30140), "30.1 µs"},
		{formatDuration(384768), "385 µs"},
		{formatDuration(1428691), "1.43 ms"},
		{formatDuration(1002306751), "1.00 s"},
		{formatRatio(1), "1.00×"},
		{formatRatio(0.178), "0.18×"},
		{formatRatio(0.00123), "0.0012×"},
		{formatRatio(23.2), "23.2×"},
		{formatRatio(958.9), "959×"},
		{formatMetric(2), "2"},
		{formatMetric(1.5), "1.5"},
		{formatMetric(4.0 / 3), "1.33"},
		{formatCount(16602), "16602"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
