package migrate

import (
	"os"
	"path/filepath"
	"runtime"
)

// Env is where the sources' default paths come from. Tests and callers
// with unusual layouts fill it by hand; OSEnv reads the process's. As the
// XDG base directory spec asks, relative XDGDataHome, XDGConfigHome,
// CodexHome and CLAUDE_CONFIG_DIR values are ignored in favour of the
// defaults.
type Env struct {
	// Home is the user's home directory. Sources under it are skipped
	// when it is empty.
	Home string
	// XDGDataHome is $XDG_DATA_HOME (default Home/.local/share).
	XDGDataHome string
	// XDGConfigHome is $XDG_CONFIG_HOME (default Home/.config).
	XDGConfigHome string
	// CodexHome is $CODEX_HOME (default Home/.codex).
	CodexHome string
	// Getenv reads other variables (OPENCODE_AUTH_CONTENT,
	// CLAUDE_CONFIG_DIR). Nil reads nothing.
	Getenv func(key string) string
}

// OSEnv returns the process's environment: the home directory from
// os.UserHomeDir and the XDG and CODEX_HOME variables. On Windows, where
// GitHub Copilot keeps its files under %LOCALAPPDATA%, XDGConfigHome
// defaults to that directory.
func OSEnv() Env {
	home, _ := os.UserHomeDir() // no home: the sources under it are skipped
	env := Env{
		Home:          home,
		XDGDataHome:   os.Getenv("XDG_DATA_HOME"),
		XDGConfigHome: os.Getenv("XDG_CONFIG_HOME"),
		CodexHome:     os.Getenv("CODEX_HOME"),
		Getenv:        os.Getenv,
	}
	if runtime.GOOS == "windows" && env.XDGConfigHome == "" {
		env.XDGConfigHome = os.Getenv("LOCALAPPDATA")
	}
	return env
}

func (e Env) getenv(key string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(key)
}

// underHome joins elem to Home, or returns "" when there is no home.
func (e Env) underHome(elem ...string) string {
	if e.Home == "" {
		return ""
	}
	return filepath.Join(append([]string{e.Home}, elem...)...)
}

// dir returns an override directory when it is absolute (the XDG spec
// says relative values are to be ignored), else the default under Home.
func (e Env) dir(override string, def ...string) string {
	if override != "" && filepath.IsAbs(override) {
		return override
	}
	return e.underHome(def...)
}

func (e Env) dataHome() string   { return e.dir(e.XDGDataHome, ".local", "share") }
func (e Env) configHome() string { return e.dir(e.XDGConfigHome, ".config") }
func (e Env) codexHome() string  { return e.dir(e.CodexHome, ".codex") }
func (e Env) claudeHome() string { return e.dir(e.getenv("CLAUDE_CONFIG_DIR"), ".claude") }

func join(dir string, elem ...string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(append([]string{dir}, elem...)...)
}
