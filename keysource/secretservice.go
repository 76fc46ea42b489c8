//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keysource

// The build constraint is go-keyring's own for its Secret Service backend.

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/godbus/dbus/v5"
)

var errNoSessionBus = errors.New("no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and /run/user/UID has no bus socket")

// checkSessionBus fails fast when there is no session bus to find a Secret
// Service on. Left alone, the D-Bus library would run dbus-launch to start a
// private bus, leaving a daemon behind and finding no keyring on it (or,
// through D-Bus activation, a fresh locked one that waits for a user who is
// not there). The discovery mirrors the library's.
func checkSessionBus() error {
	if addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" && addr != "autolaunch:" {
		return nil
	}
	dir := fmt.Sprintf("/run/user/%d", os.Getuid())
	for _, name := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			return nil
		}
	}
	return errNoSessionBus
}

// noSecretService returns the reason to give when err means there is no
// Secret Service to ask, or "" for any other error.
func noSecretService(err error) string {
	const reason = "no Secret Service on the session bus (on a headless machine, set " + EnvKey + " instead)"
	if errors.Is(err, errNoSessionBus) {
		return reason
	}
	var name string
	var v dbus.Error
	var p *dbus.Error
	switch {
	case errors.As(err, &v):
		name = v.Name
	case errors.As(err, &p):
		name = p.Name
	default:
		// Not a reply from the bus: the bus itself could not be reached.
		var op *net.OpError
		if errors.As(err, &op) {
			return reason
		}
		return ""
	}
	if name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
		name == "org.freedesktop.DBus.Error.NameHasNoOwner" ||
		strings.HasPrefix(name, "org.freedesktop.DBus.Error.Spawn.") {
		return reason
	}
	return ""
}
