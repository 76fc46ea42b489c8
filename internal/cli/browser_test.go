package cli

import (
	"errors"
	"runtime"
	"testing"
)

func TestOpenBrowserRefuses(t *testing.T) {
	none := func(string) string { return "" }
	for _, u := range []string{"file:///etc/passwd", "javascript:alert(1)", "not a url", "https://", "-x"} {
		if err := OpenBrowser(u, none); err == nil {
			t.Errorf("OpenBrowser(%q) started something", u)
		}
	}
	if runtime.GOOS != "darwin" && runtime.GOOS != "windows" {
		if err := OpenBrowser("https://example.com/", none); !errors.Is(err, ErrNoBrowser) {
			t.Errorf("without a graphical session: %v", err)
		}
	}
}
