package provider

import (
	"crypto/subtle"
	"fmt"
	"net/url"
	"strings"
)

// maxPasted bounds a pasted code or URL.
const maxPasted = 8 << 10

// parsePasted reads what a user pasted after signing in: the provider's
// "code#state" form (Anthropic's code page), the whole redirect URL
// copied from the browser's address bar (its code, state or error are
// read), or a bare code. The state, when present, must be wantState;
// with requireState a paste without one is refused too.
func parsePasted(pasted, wantState string, requireState bool) (string, error) {
	s := strings.TrimSpace(pasted)
	if len(s) > maxPasted {
		return "", fmt.Errorf("%w: pasted text longer than %d bytes", ErrMissingCode, maxPasted)
	}
	var code, state string
	if u, err := url.Parse(s); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.RawQuery != "" {
		q := u.Query()
		if e := q.Get("error"); e != "" {
			if !stateEqual(q.Get("state"), wantState) {
				return "", ErrStateMismatch
			}
			return "", &AuthorizationError{Code: cleanCode(e, nil), Description: cleanText(q.Get("error_description"), nil)}
		}
		code, state = q.Get("code"), q.Get("state")
	} else if i := strings.IndexByte(s, '#'); i >= 0 {
		code, state = s[:i], s[i+1:]
	} else {
		code = s
	}
	if state != "" || requireState {
		if !stateEqual(state, wantState) {
			return "", fmt.Errorf("%w: paste the whole text the sign-in page shows", ErrStateMismatch)
		}
	}
	if code == "" || strings.ContainsAny(code, " \t\r\n") {
		return "", ErrMissingCode
	}
	return code, nil
}

func stateEqual(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
