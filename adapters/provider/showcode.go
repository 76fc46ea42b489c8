package provider

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"unicode"

	"golang.org/x/oauth2"
)

// showDeviceCode checks a device authorization response and writes the
// verification URL and user code to w for the user. The URLs must be https
// (or http on a loopback host); the user code is printed only if it is
// plain printable text, so a hostile server cannot inject terminal escapes.
// The device code, which is a credential, is never written.
func showDeviceCode(w io.Writer, provider string, da *oauth2.DeviceAuthResponse) error {
	fail := func(reason string) error {
		return &LoginError{Provider: provider, Step: "device authorization", Err: errors.New(reason)}
	}
	if da.DeviceCode == "" {
		return fail("response has no device_code")
	}
	if da.UserCode == "" || len(da.UserCode) > 64 || !printable(da.UserCode) {
		return fail("response has no usable user_code")
	}
	if _, err := parseVerificationURL(da.VerificationURI); err != nil {
		return fail("verification_uri: " + err.Error())
	}
	open := da.VerificationURI
	if da.VerificationURIComplete != "" {
		if _, err := parseVerificationURL(da.VerificationURIComplete); err != nil {
			return fail("verification_uri_complete: " + err.Error())
		}
		open = da.VerificationURIComplete
	}
	_, err := fmt.Fprintf(w, "To sign in to %s, open %s\nand enter the code %s\n", provider, open, da.UserCode)
	return err
}

// parseVerificationURL checks a URL a server wants the user to open: https
// (or http on a loopback host), with a host, printable. Unlike a base URL it
// may carry a query (the user code).
func parseVerificationURL(s string) (*url.URL, error) {
	if s == "" || len(s) > 2048 || !printable(s) {
		return nil, baseURLError("", "not a printable URL")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, baseURLError("", "not a URL")
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && IsLoopback(u.Hostname())) || u.Host == "" || u.User != nil {
		return nil, baseURLError(u.Redacted(), "must be an https URL")
	}
	return u, nil
}

func printable(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || r == unicode.ReplacementChar }) < 0
}
