package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/records"
)

// maxResponse bounds how much of a token or device endpoint answer is read.
const maxResponse = 1 << 20

// maxExpiresIn bounds a token lifetime taken from a server: a token that
// claims to live longer is treated as living this long.
const maxExpiresIn = 366 * 24 * time.Hour

// sensitiveParams are request parameters whose values are secrets.
var sensitiveParams = []string{"code", "code_verifier", "refresh_token", "device_code", "client_secret", "access_token", "id_token", "assertion", "subject_token", "state"}

// Request is one POST to an OAuth endpoint.
type Request struct {
	URL string
	// Params is the request body: form-encoded, or a JSON object of
	// strings when JSON is set (Anthropic's token endpoint takes JSON).
	// Only the first value of each key is sent as JSON.
	Params url.Values
	JSON   bool
	// Header is added to the request (a beta flag, an Accept override).
	Header http.Header
}

func (r Request) secrets() []string {
	var s []string
	for _, k := range sensitiveParams {
		if v := r.Params.Get(k); v != "" {
			s = append(s, v)
		}
	}
	return s
}

// TokenResponse is a successful token endpoint answer.
type TokenResponse struct {
	AccessToken  records.Secret
	RefreshToken records.Secret
	IDToken      records.Secret
	TokenType    string
	Scope        string
	// ExpiresIn is the lifetime the server gave; 0 when it gave none.
	ExpiresIn time.Duration
	// Extra holds every other top-level field (account, organization,
	// resource_url…). It is the server's data: treat it as untrusted.
	Extra map[string]json.RawMessage
}

// expiry returns now+ExpiresIn, or zero when the server gave no lifetime.
func (t *TokenResponse) expiry(now time.Time) time.Time {
	if t.ExpiresIn <= 0 {
		return time.Time{}
	}
	return now.Add(t.ExpiresIn)
}

// Scopes splits Scope on spaces (RFC 6749) and commas (some servers).
func (t *TokenResponse) Scopes() []string {
	return strings.FieldsFunc(t.Scope, func(r rune) bool { return r == ' ' || r == ',' })
}

// Apply copies the answer into o: the access token, the refresh token
// when the server sent one (rotated; else the old one stays), the expiry
// (zero when the answer gives no lifetime), and the scopes when the
// answer names any.
func (t *TokenResponse) Apply(o *records.OAuth, now time.Time) {
	o.Access = t.AccessToken
	if !t.RefreshToken.IsZero() {
		o.Refresh = t.RefreshToken
	}
	o.Expiry = t.expiry(now)
	if s := t.Scopes(); len(s) > 0 {
		o.Scopes = s
	}
}

// postToken sends req and parses a token response. A non-2xx answer, or
// a 2xx one carrying an "error" field, is a *TokenError; a 2xx answer
// without an access token is a *malformedResponseError; a network failure
// is returned wrapped as is.
func postToken(ctx context.Context, client *http.Client, req Request) (*TokenResponse, error) {
	status, body, err := post(ctx, client, req)
	if err != nil {
		return nil, err
	}
	return parseToken(status, body)
}

// parseToken reads a 2xx token endpoint answer.
func parseToken(status int, body []byte) (*TokenResponse, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return nil, &malformedResponseError{Status: status, Reason: "body is not a JSON object"}
	}
	tr := &TokenResponse{Extra: map[string]json.RawMessage{}}
	for k, v := range fields {
		switch k {
		case "access_token":
			tr.AccessToken = records.Secret(jsonString(v))
		case "refresh_token":
			tr.RefreshToken = records.Secret(jsonString(v))
		case "id_token":
			tr.IDToken = records.Secret(jsonString(v))
		case "token_type":
			tr.TokenType = jsonString(v)
		case "scope":
			tr.Scope = jsonString(v)
		case "expires_in":
			tr.ExpiresIn = jsonSeconds(v)
		default:
			tr.Extra[k] = v
		}
	}
	if tr.AccessToken.IsZero() {
		return nil, &malformedResponseError{Status: status, Reason: "no access_token"}
	}
	return tr, nil
}

// post sends req and returns the status and body of a 2xx answer that is
// not an OAuth error; every other outcome is an error. With a *TokenError
// the status and body are returned too, for the details a device poll
// reads (the interval a slow_down asks for).
func post(ctx context.Context, client *http.Client, req Request) (int, []byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	var body io.Reader
	ctype := "application/x-www-form-urlencoded"
	if req.JSON {
		obj := make(map[string]string, len(req.Params))
		for k := range req.Params {
			obj[k] = req.Params.Get(k)
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return 0, nil, fmt.Errorf("encoding OAuth request: %w", err)
		}
		body = bytes.NewReader(b)
		ctype = "application/json"
	} else {
		body = strings.NewReader(req.Params.Encode())
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, req.URL, body)
	if err != nil {
		return 0, nil, fmt.Errorf("OAuth endpoint URL: %w", err)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hreq.Header.Add(k, v)
		}
	}
	hreq.Header.Set("Content-Type", ctype)
	if hreq.Header.Get("Accept") == "" {
		// GitHub answers form-encoded without it.
		hreq.Header.Set("Accept", "application/json")
	}
	resp, err := client.Do(hreq)
	if err != nil {
		return 0, nil, fmt.Errorf("OAuth endpoint request: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return 0, nil, fmt.Errorf("reading OAuth endpoint response (HTTP %d): %w", resp.StatusCode, err)
	}
	if len(b) > maxResponse {
		if resp.StatusCode/100 == 2 {
			return 0, nil, &malformedResponseError{Status: resp.StatusCode, Reason: fmt.Sprintf("body larger than %d bytes", maxResponse)}
		}
		b = b[:maxResponse]
	}
	if te := parseError(resp.StatusCode, b, req.secrets()); te != nil {
		return resp.StatusCode, b, te
	}
	return resp.StatusCode, b, nil
}

// parseError returns the OAuth error in an answer, or nil for a 2xx
// answer that reports none. It knows RFC 6749's {"error","error_description"},
// the {"error":{"code"|"type","message"}} variant (OpenAI, Anthropic) and
// a top-level "code".
func parseError(status int, body []byte, secrets []string) *TokenError {
	var env struct {
		Error            json.RawMessage `json:"error"`
		ErrorDescription json.RawMessage `json:"error_description"`
		Code             json.RawMessage `json:"code"`
		Message          json.RawMessage `json:"message"`
	}
	jsonOK := json.Unmarshal(body, &env) == nil
	te := &TokenError{Status: status}
	if jsonOK {
		if s := jsonString(env.Error); s != "" {
			te.Code = s
			te.Description = jsonString(env.ErrorDescription)
		} else if len(env.Error) > 0 && env.Error[0] == '{' {
			var obj struct {
				Code    json.RawMessage `json:"code"`
				Type    json.RawMessage `json:"type"`
				Message json.RawMessage `json:"message"`
			}
			if json.Unmarshal(env.Error, &obj) == nil {
				te.Code = jsonString(obj.Code)
				if te.Code == "" {
					te.Code = jsonString(obj.Type)
				}
				te.Description = jsonString(obj.Message)
			}
		}
		if te.Code == "" && status/100 != 2 {
			te.Code = jsonString(env.Code)
			if te.Description == "" {
				te.Description = jsonString(env.Message)
			}
		}
	}
	if status/100 == 2 && te.Code == "" {
		return nil
	}
	te.Code = cleanCode(te.Code, secrets)
	te.Description = cleanText(te.Description, secrets)
	return te
}

// jsonString returns a JSON string's value, or "" for anything else.
func jsonString(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// jsonSeconds reads a lifetime in seconds from a JSON number or numeric
// string; anything else, or a negative value, is 0.
func jsonSeconds(raw json.RawMessage) time.Duration {
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		s := jsonString(raw)
		if f, err = strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
			return 0
		}
	}
	if f != f || f <= 0 {
		return 0
	}
	if f >= maxExpiresIn.Seconds() {
		return maxExpiresIn
	}
	return time.Duration(f * float64(time.Second))
}

// AsRefreshError maps a token request's failure (or a golang.org/x/oauth2 one
// passed through FromRetrieveError) to the *adapters.RefreshError that
// Adapter.Refresh returns: Permanent for the codes that mean the grant is
// dead (invalid_grant, refresh_token_reused…) and a bare 401. The
// description the server gave, cleaned, becomes its Err.
func AsRefreshError(provider string, err error) error {
	var te *TokenError
	if errors.As(err, &te) {
		re := &adapters.RefreshError{Provider: provider, Status: te.Status, Code: te.Code, Permanent: te.permanent()}
		if te.Description != "" {
			re.Err = errors.New(te.Description)
		}
		return re
	}
	return &adapters.RefreshError{Provider: provider, Err: err}
}
