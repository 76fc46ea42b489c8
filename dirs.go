package authvault

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
)

// DefaultDir returns where the default vault lives: $AUTHVAULT_DIR when
// set, else "authvault" under the user's data directory
// ($XDG_DATA_HOME or ~/.local/share on Linux and other Unix systems,
// ~/Library/Application Support on macOS, %LocalAppData% on Windows).
func DefaultDir() (string, error) {
	return defaultDir(os.Getenv, os.UserHomeDir)
}

func defaultDir(getenv func(string) string, home func() (string, error)) (string, error) {
	if d := getenv("AUTHVAULT_DIR"); d != "" {
		return d, nil
	}
	switch runtime.GOOS {
	case "windows":
		if d := getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "authvault"), nil
		}
		return "", errors.New("authvault: %LocalAppData% is not set; set AUTHVAULT_DIR")
	case "darwin", "ios":
		h, err := home()
		if err != nil {
			return "", err
		}
		return filepath.Join(h, "Library", "Application Support", "authvault"), nil
	}
	if d := getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "authvault"), nil
	}
	h, err := home()
	if err != nil {
		return "", err
	}
	return filepath.Join(h, ".local", "share", "authvault"), nil
}
