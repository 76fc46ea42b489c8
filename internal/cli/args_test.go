package cli

import (
	"errors"
	"flag"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParse(t *testing.T) {
	type parsed struct {
		Pos    []string
		To     int
		Reason string
		JSON   bool
		R      []string
	}
	for _, tc := range []struct {
		name    string
		args    []string
		want    parsed
		wantErr error // nil, flag.ErrHelp or ErrUsage
	}{
		{"empty", nil, parsed{}, nil},
		{"flags first", []string{"--to", "2", "id"}, parsed{Pos: []string{"id"}, To: 2}, nil},
		{"flags last", []string{"id", "--to", "2"}, parsed{Pos: []string{"id"}, To: 2}, nil},
		{"mixed", []string{"a", "--json", "b", "-reason=x y", "c"}, parsed{Pos: []string{"a", "b", "c"}, Reason: "x y", JSON: true}, nil},
		{"value looks like a flag", []string{"--reason", "--to", "id"}, parsed{Pos: []string{"id"}, Reason: "--to"}, nil},
		{"double dash", []string{"--json", "--", "--to", "-x"}, parsed{Pos: []string{"--to", "-x"}, JSON: true}, nil},
		{"lone dash", []string{"-", "--json"}, parsed{Pos: []string{"-"}, JSON: true}, nil},
		{"bool with value", []string{"--json=false", "x"}, parsed{Pos: []string{"x"}}, nil},
		{"repeated", []string{"-r", "a", "x", "-r", "b"}, parsed{Pos: []string{"x"}, R: []string{"a", "b"}}, nil},
		{"unknown flag", []string{"x", "--nope"}, parsed{}, ErrUsage},
		{"missing value", []string{"x", "--to"}, parsed{}, ErrUsage},
		{"bad value", []string{"--to", "two"}, parsed{}, ErrUsage},
		{"help", []string{"x", "-h"}, parsed{}, flag.ErrHelp},
		{"long help", []string{"--help"}, parsed{}, flag.ErrHelp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var got parsed
			var r []string
			fs.IntVar(&got.To, "to", 0, "")
			fs.StringVar(&got.Reason, "reason", "", "")
			fs.BoolVar(&got.JSON, "json", false, "")
			fs.Func("r", "", func(v string) error { r = append(r, v); return nil })
			pos, err := Parse(fs, tc.args)
			switch want := tc.wantErr.(type) {
			case nil:
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
			default:
				if !errors.Is(err, want) {
					t.Fatalf("Parse: %v, want %v", err, want)
				}
				return
			}
			got.Pos, got.R = pos, r
			if d := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestTakesValue(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.Bool("json", false, "")
	fs.String("to", "", "")
	fs.Func("r", "", func(string) error { return nil })
	for name, want := range map[string]bool{"json": false, "to": true, "r": true, "nope": false} {
		if got := TakesValue(fs, name); got != want {
			t.Errorf("TakesValue(%q) = %v", name, got)
		}
	}
}
