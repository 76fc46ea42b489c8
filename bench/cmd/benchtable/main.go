// Command benchtable turns the output of `go test -bench` into the
// markdown table bench/README.md shows.
//
//	go test -run '^$' -bench . ./... | go run ./cmd/benchtable
//
// Benchmarks are grouped by their name up to the last slash
// (BenchmarkStore/get/age-file is alternative "age-file" of group
// "Store/get"). For each alternative the table gives the time per op, its
// ratio to the group's baseline, allocations per op and every custom metric
// the benchmarks reported (upstream/op). A group's baseline is the first
// name in -baseline that the group has. When a benchmark ran more than once
// (-count), the median of each metric is shown.
//
// The input is read to its end; a run that failed (a FAIL line) or that
// produced no results is an error, so a broken run never yields a table
// that looks complete.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	baseline := flag.String("baseline", "plain-json,bare,authvault",
		"comma-separated alternative names; in each group the first one present is the baseline of the ratios")
	flag.Parse()
	if err := run(os.Stdin, os.Stdout, strings.Split(*baseline, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

// run reads a benchmark run from in and writes its table to out.
func run(in io.Reader, out io.Writer, baselines []string) error {
	r, err := parse(in)
	if err != nil {
		return err
	}
	return write(out, r, baselines)
}

// The units go test reports by itself; every other unit is a custom metric.
const (
	unitTime   = "ns/op"
	unitAllocs = "allocs/op"
)

var builtinUnits = []string{unitTime, "B/op", unitAllocs, "MB/s"}

// report is a parsed benchmark run.
type report struct {
	goos, goarch, cpu string
	procs             int // GOMAXPROCS, from the names' "-N" suffix; 1 without one
	groups            []*group
	units             []string // custom metric units, in order of appearance
}

// group is the alternatives compared in one benchmark, in order of
// appearance.
type group struct {
	name    string
	results []*result
}

// result is one alternative's measurements, one map per run.
type result struct {
	name string
	runs []map[string]float64
}

// median returns the median of unit over the runs that reported it.
func (r *result) median(unit string) (float64, bool) {
	var vs []float64
	for _, run := range r.runs {
		if v, ok := run[unit]; ok {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0, false
	}
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2], true
	}
	return (vs[n/2-1] + vs[n/2]) / 2, true
}

// errFailed is returned for a run whose output reports a failure.
var errFailed = errors.New("the benchmark run failed (FAIL in its output): no table")

// errNoResults is returned for input without a single benchmark result.
var errNoResults = errors.New("no benchmark results in the input")

// parse reads go test -bench output.
func parse(in io.Reader) (*report, error) {
	r := &report{procs: 1}
	groups := map[string]*group{}
	results := map[string]*result{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "--- FAIL"):
			return nil, errFailed
		case strings.HasPrefix(line, "goos: "):
			r.goos = strings.TrimPrefix(line, "goos: ")
		case strings.HasPrefix(line, "goarch: "):
			r.goarch = strings.TrimPrefix(line, "goarch: ")
		case strings.HasPrefix(line, "cpu: "):
			r.cpu = strings.TrimPrefix(line, "cpu: ")
		case strings.HasPrefix(line, "Benchmark"):
			full, units, values, ok := parseLine(line)
			if !ok {
				continue
			}
			metrics := make(map[string]float64, len(units))
			for i, unit := range units {
				metrics[unit] = values[i]
				if !slices.Contains(builtinUnits, unit) && !slices.Contains(r.units, unit) {
					r.units = append(r.units, unit)
				}
			}
			name, procs := splitProcs(strings.TrimPrefix(full, "Benchmark"))
			r.procs = procs
			gname, alt := name, ""
			if i := strings.LastIndexByte(name, '/'); i >= 0 {
				gname, alt = name[:i], name[i+1:]
			}
			g := groups[gname]
			if g == nil {
				g = &group{name: gname}
				groups[gname] = g
				r.groups = append(r.groups, g)
			}
			res := results[name]
			if res == nil {
				res = &result{name: alt}
				results[name] = res
				g.results = append(g.results, res)
			}
			res.runs = append(res.runs, metrics)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(r.groups) == 0 {
		return nil, errNoResults
	}
	return r, nil
}

// parseLine splits "BenchmarkX-2  100  123 ns/op  4.0 upstream/op" into the
// name and its metrics, in the order of the line. ok is false for a line
// that only starts like one (a benchmark's log output).
func parseLine(line string) (name string, units []string, values []float64, ok bool) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 {
		return "", nil, nil, false
	}
	if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
		return "", nil, nil, false
	}
	for i := 2; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", nil, nil, false
		}
		units, values = append(units, f[i+1]), append(values, v)
	}
	if !slices.Contains(units, unitTime) {
		return "", nil, nil, false
	}
	return f[0], units, values, true
}

// splitProcs removes the "-N" GOMAXPROCS suffix go test adds to a name
// when N > 1.
func splitProcs(name string) (string, int) {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name, 1
	}
	n, err := strconv.Atoi(name[i+1:])
	if err != nil || n < 1 {
		return name, 1
	}
	return name[:i], n
}

// write prints the header line, the table and the note.
func write(w io.Writer, r *report, baselines []string) error {
	var b strings.Builder
	var env []string
	for _, kv := range [][2]string{{"goos", r.goos}, {"goarch", r.goarch}, {"cpu", r.cpu}} {
		if kv[1] != "" {
			env = append(env, kv[0]+": "+kv[1])
		}
	}
	env = append(env, "GOMAXPROCS: "+strconv.Itoa(r.procs))
	b.WriteString(strings.Join(env, " · ") + "\n\n")

	cols := append([]string{"Benchmark", "Alternative", "time/op", "vs baseline", "allocs/op"}, r.units...)
	b.WriteString("| " + strings.Join(cols, " | ") + " |\n")
	b.WriteString("| --- | --- |" + strings.Repeat(" ---: |", len(cols)-2) + "\n")
	for _, g := range r.groups {
		base := g.baseline(baselines)
		var baseTime float64
		if base != nil {
			baseTime, _ = base.median(unitTime)
		}
		for i, res := range g.results {
			groupCell := ""
			if i == 0 {
				groupCell = g.name
			}
			name := res.name
			if res == base {
				name += " *(baseline)*"
			}
			t, _ := res.median(unitTime)
			ratio := "–"
			if base != nil && baseTime > 0 {
				ratio = formatRatio(t / baseTime)
			}
			row := []string{groupCell, name, formatDuration(t), ratio, cell(res, unitAllocs, formatCount)}
			for _, u := range r.units {
				row = append(row, cell(res, u, formatMetric))
			}
			b.WriteString("| " + strings.Join(row, " | ") + " |\n")
		}
	}
	fmt.Fprintf(&b, "\nAbsolute times come from a shared %d-core machine and move from run to run; "+
		"the ratios, each against its group's baseline, are what count.\n", r.procs)
	_, err := io.WriteString(w, b.String())
	return err
}

// baseline returns the group's result named first in names, or nil.
func (g *group) baseline(names []string) *result {
	for _, n := range names {
		for _, res := range g.results {
			if res.name == strings.TrimSpace(n) {
				return res
			}
		}
	}
	return nil
}

func cell(res *result, unit string, format func(float64) string) string {
	v, ok := res.median(unit)
	if !ok {
		return ""
	}
	return format(v)
}

// formatDuration prints ns with three significant digits in the largest
// unit that keeps the number at least 1.
func formatDuration(ns float64) string {
	switch {
	case ns < 1e3:
		return sig3(ns) + " ns"
	case ns < 1e6:
		return sig3(ns/1e3) + " µs"
	case ns < 1e9:
		return sig3(ns/1e6) + " ms"
	default:
		return sig3(ns/1e9) + " s"
	}
}

// formatRatio prints a ratio with three significant digits, more for
// ratios under 0.01.
func formatRatio(x float64) string {
	if x < 0.01 {
		return strconv.FormatFloat(x, 'f', 4, 64) + "×"
	}
	return sig3(x) + "×"
}

func sig3(x float64) string {
	switch {
	case x < 10:
		return strconv.FormatFloat(x, 'f', 2, 64)
	case x < 100:
		return strconv.FormatFloat(x, 'f', 1, 64)
	default:
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
}

func formatCount(x float64) string { return strconv.FormatFloat(math.Round(x), 'f', 0, 64) }

// formatMetric prints a custom metric with at most two decimals and no
// trailing zeros.
func formatMetric(x float64) string {
	s := strconv.FormatFloat(x, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
