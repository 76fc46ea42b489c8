package main

import (
	"errors"
	"net/url"
	"os/exec"
	"runtime"
)

// errNoBrowser is returned by openBrowser where no desktop session can
// show a page: the caller prints the URL for the user instead.
var errNoBrowser = errors.New("no graphical session to open a browser in")

// openBrowser asks the desktop to show the http or https URL u in the
// user's browser: open(1) on macOS, the URL protocol handler on Windows,
// xdg-open elsewhere (only in a graphical session: DISPLAY or
// WAYLAND_DISPLAY set). It returns once the opener has started, without
// waiting for the browser. The URL is passed as one argument, never
// through a shell.
func openBrowser(u string, getenv func(string) string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return errors.New("not an http or https URL")
	}
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
			return errNoBrowser
		}
		cmd = exec.Command("xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() // reap the opener; its exit status says nothing useful
	return nil
}
