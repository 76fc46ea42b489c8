package adapters

import (
	"errors"
	"net/url"
	"slices"
	"testing"

	"github.com/authvault/authvault/records"
)

func TestParseOrigin(t *testing.T) {
	cases := []struct {
		in   string
		want Origin
		err  bool
	}{
		{"https://api.anthropic.com", "https://api.anthropic.com", false},
		{"HTTPS://API.Anthropic.com:443/v1/messages?x=1", "https://api.anthropic.com", false},
		{"http://127.0.0.1:8080/v1", "http://127.0.0.1:8080", false},
		{"http://localhost:80", "http://localhost", false},
		{"http://[::1]:9000", "http://[::1]:9000", false},
		{"https://[::1]", "https://[::1]", false},
		{"https://api.example.com:8443", "https://api.example.com:8443", false},
		{"ftp://example.com", "", true},
		{"https://user:pw@example.com", "", true},
		{"example.com", "", true},
		{"https://example.com:", "", true},
		{"", "", true},
	}
	for _, c := range cases {
		got, err := ParseOrigin(c.in)
		if c.err {
			if !errors.Is(err, ErrInvalidOrigin) {
				t.Errorf("ParseOrigin(%q) = %q, %v; want ErrInvalidOrigin", c.in, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseOrigin(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestOriginOfAndBound(t *testing.T) {
	u, _ := url.Parse("https://API.example.com/v1/x")
	for _, s := range []string{"https://api.example.com", "https://api.example.com:443/other"} {
		v, _ := url.Parse(s)
		if OriginOf(u) != OriginOf(v) {
			t.Errorf("%s and %s: not the same origin", u, v)
		}
	}
	for _, s := range []string{"http://api.example.com", "https://api.example.com:8443", "https://example.com"} {
		v, _ := url.Parse(s)
		if OriginOf(u) == OriginOf(v) {
			t.Errorf("%s and %s: the same origin", u, v)
		}
	}
	if !Bound(u, []Origin{"https://other.example", "https://api.example.com"}) || Bound(u, nil) ||
		Bound(u, []Origin{"http://api.example.com"}) {
		t.Error("Bound is wrong")
	}
}

func TestAccountOrigins(t *testing.T) {
	defaults := []Origin{"https://api.example.com"}
	rec := func(base string) *records.Record {
		return &records.Record{Meta: map[string]string{MetaBaseURL: base}}
	}
	if got := AccountOrigins(rec("http://10.0.0.5:8000/openai/v1"), defaults); !slices.Equal(got, []Origin{"https://api.example.com", "http://10.0.0.5:8000"}) {
		t.Errorf("with a base URL: %v", got)
	}
	if got := AccountOrigins(rec("https://api.example.com/v2"), defaults); !slices.Equal(got, defaults) {
		t.Errorf("a base URL on the default origin: %v", got)
	}
	if got := AccountOrigins(rec("not a url"), defaults); !slices.Equal(got, defaults) {
		t.Errorf("an unusable base URL: %v", got)
	}
	if got := AccountOrigins(&records.Record{}, defaults); !slices.Equal(got, defaults) {
		t.Errorf("no base URL: %v", got)
	}
}
