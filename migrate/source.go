package migrate

import (
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"os"
	"time"
)

// Source names.
const (
	SourceOpenCode   = "opencode"
	SourceClaudeCode = "claude-code"
	SourceCodex      = "codex"
	SourceGeminiCLI  = "gemini-cli"
	SourceQwenCode   = "qwen-code"
	SourceCopilot    = "copilot"
)

// OpenCodeContentVar is the variable whose value OpenCode reads instead of
// its auth.json. When it is set, the opencode source reads it and not the
// file, as OpenCode does.
const OpenCodeContentVar = "OPENCODE_AUTH_CONTENT"

// Source is a tool whose credential files can be imported.
type Source struct {
	// Name is the source's name: one of the Source* constants.
	Name string
	// Description names the tool and its file for people.
	Description string

	paths func(Env) []string
	parse func(path string, data []byte) ([]Found, []Problem)
	// contentVar names a variable that, when set, replaces the files.
	contentVar string
}

// Sources returns every source, in the order Discover reads them.
func Sources() []Source {
	return []Source{
		{
			Name: SourceOpenCode, Description: "OpenCode auth.json",
			paths: func(e Env) []string { return []string{join(e.dataHome(), "opencode", "auth.json")} },
			parse: parseOpenCode, contentVar: OpenCodeContentVar,
		},
		{
			Name: SourceClaudeCode, Description: "Claude Code .credentials.json",
			paths: func(e Env) []string { return []string{join(e.claudeHome(), ".credentials.json")} },
			parse: parseClaudeCode,
		},
		{
			Name: SourceCodex, Description: "Codex auth.json",
			paths: func(e Env) []string { return []string{join(e.codexHome(), "auth.json")} },
			parse: parseCodex,
		},
		{
			Name: SourceGeminiCLI, Description: "Gemini CLI oauth_creds.json",
			paths: func(e Env) []string { return []string{e.underHome(".gemini", "oauth_creds.json")} },
			parse: parseGeminiCLI,
		},
		{
			Name: SourceQwenCode, Description: "Qwen Code oauth_creds.json",
			paths: func(e Env) []string { return []string{e.underHome(".qwen", "oauth_creds.json")} },
			parse: parseQwenCode,
		},
		{
			Name: SourceCopilot, Description: "GitHub Copilot apps.json and hosts.json",
			paths: func(e Env) []string {
				dir := join(e.configHome(), "github-copilot")
				return []string{join(dir, "apps.json"), join(dir, "hosts.json")}
			},
			parse: parseCopilot,
		},
	}
}

// SourceByName returns the source called name.
func SourceByName(name string) (Source, bool) {
	for _, s := range Sources() {
		if s.Name == name {
			return s, true
		}
	}
	return Source{}, false
}

// Paths returns the files the source reads under env, whether or not they
// exist. It is empty when env lacks the directory they live in.
func (s Source) Paths(env Env) []string {
	var out []string
	for _, p := range s.paths(env) {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Parse parses content in the source's format; path names it in the
// results. The Found values it returns cannot be removed by RemoveSources:
// only files read by ReadFile or Discover can.
func (s Source) Parse(path string, data []byte) ([]Found, []Problem) {
	return s.parse(path, data)
}

// ReadFile reads and parses one file in the source's format. The file
// must be at most MaxFileSize bytes and not a directory, pipe or socket;
// a missing file is a Problem matching fs.ErrNotExist.
func (s Source) ReadFile(path string) ([]Found, []Problem) {
	data, mtime, err := readCapped(path)
	if err != nil {
		return nil, []Problem{{Source: s.Name, Path: path, Err: err}}
	}
	found, problems := s.parse(path, data)
	for i := range found {
		found[i].file = true
		if found[i].Modified.IsZero() {
			found[i].Modified = mtime
		}
	}
	return found, problems
}

// discover reads whatever of the source exists under env: its files, or
// for OpenCode the content of OPENCODE_AUTH_CONTENT when that is set.
// Missing files are not problems.
func (s Source) discover(env Env) ([]Found, []Problem) {
	if s.contentVar != "" {
		if content := env.getenv(s.contentVar); content != "" {
			return s.parse("$"+s.contentVar, []byte(content))
		}
	}
	var found []Found
	var problems []Problem
	for _, p := range s.Paths(env) {
		f, ps := s.ReadFile(p)
		if len(ps) == 1 && errors.Is(ps[0].Err, fs.ErrNotExist) {
			continue
		}
		found = append(found, f...)
		problems = append(problems, ps...)
	}
	return found, problems
}

// Discover reads whatever exists of the given sources under env, or of
// every source (in the order of Sources) when none is given: their files,
// or for OpenCode the content of OPENCODE_AUTH_CONTENT when that is set.
// Missing files are not problems.
func Discover(env Env, sources ...Source) ([]Found, []Problem) {
	if len(sources) == 0 {
		sources = Sources()
	}
	var found []Found
	var problems []Problem
	for _, s := range sources {
		f, ps := s.discover(env)
		found = append(found, f...)
		problems = append(problems, ps...)
	}
	return found, problems
}

// readCapped reads at most MaxFileSize bytes of path. Reading one byte
// more than the cap detects an oversize file without trusting its stat
// size, which is 0 for /dev/zero and a lie for files that grow.
func readCapped(path string) ([]byte, time.Time, error) {
	// openFlags opens without blocking where the platform allows it: a
	// FIFO put in a file's place would otherwise hang the open until a
	// writer came.
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, time.Time{}, unwrapPath(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, time.Time{}, unwrapPath(err)
	}
	if fi.IsDir() || fi.Mode()&(fs.ModeNamedPipe|fs.ModeSocket) != 0 {
		return nil, time.Time{}, ErrNotRegular
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, time.Time{}, unwrapPath(err)
	}
	if len(data) > MaxFileSize {
		return nil, time.Time{}, errTooLarge()
	}
	return data, fi.ModTime(), nil
}

// unwrapPath drops the path from an *fs.PathError: Problem names it.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parseDoc decodes data as a JSON object and hands it to fn, with its
// keys in the file's order; fn records bad fields in c and returns the
// credentials it could build.
func parseDoc(source, path string, data []byte, fn func(c *checker, root object, keys []string) []Found) ([]Found, []Problem) {
	digest := sha256.Sum256(data)
	v, keys, err := decodeJSON(data)
	if err != nil {
		return nil, []Problem{problemFrom(source, path, err)}
	}
	root, ok := v.(object)
	if !ok {
		return nil, []Problem{{Source: source, Path: path, Err: wrongType("object", v)}}
	}
	var c checker
	found := fn(&c, root, keys)
	var problems []Problem
	for _, e := range c.errs {
		problems = append(problems, Problem{Source: source, Path: path, Key: e.path, Err: e.err})
	}
	for i := range found {
		found[i].Source = source
		found[i].Path = path
		found[i].digest = digest
		found[i].complete = len(problems) == 0
	}
	return found, problems
}

func problemFrom(source, path string, err error) Problem {
	var pe *pathError
	if errors.As(err, &pe) {
		return Problem{Source: source, Path: path, Key: pe.path, Err: pe.err}
	}
	return Problem{Source: source, Path: path, Err: err}
}
