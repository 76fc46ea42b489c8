package main

import (
	"errors"
	"runtime"
	"testing"
)

func TestOpenBrowserRefuses(t *testing.T) {
	none := func(string) string { return "" }
	for _, u := range []string{"file:///etc/passwd", "javascript:alert(1)", "not a url", "https://", "-x"} {
		if err := openBrowser(u, none); err == nil {
			t.Errorf("openBrowser(%q) started something", u)
		}
	}
	if runtime.GOOS != "darwin" && runtime.GOOS != "windows" {
		if err := openBrowser("https://example.com/", none); !errors.Is(err, errNoBrowser) {
			t.Errorf("without a graphical session: %v", err)
		}
	}
}
