package qwen

import (
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

	"golang.org/x/oauth2"

	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/records"
)

// maxTokenBody bounds a token endpoint answer.
const maxTokenBody = 1 << 20

// deviceGrant is RFC 8628's grant type.
const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

// maxDeviceWait bounds a login whose device authorization names no expiry.
const maxDeviceWait = 15 * time.Minute

// Login signs an account in with the device authorization grant and PKCE,
// writing the verification URL and user code to prompt, and returns an
// OAuth record for id (Provider and Namespace default to "qwen" and
// "default"; Label is required). The record holds the access and refresh
// tokens, their expiry, the client id and scopes, and Meta["resource_url"].
//
// It returns bearer.ErrAccessDenied when the user declines,
// bearer.ErrDeviceCodeExpired when the code runs out, and a
// *bearer.LoginError for any other refusal.
func (a *Adapter) Login(ctx context.Context, client *http.Client, id records.ID, prompt io.Writer) (*records.Record, error) {
	if a.err != nil {
		return nil, a.err
	}
	if a.clientID == "" {
		return nil, fmt.Errorf("%s: login: %w (use WithClientID or WithPreset)", Provider, bearer.ErrNoClientID)
	}
	if prompt == nil {
		return nil, fmt.Errorf("%s: login: nil prompt writer: the user must see the code", Provider)
	}
	id, err := loginID(id)
	if err != nil {
		return nil, err
	}
	client = bearer.ClientWithUserAgent(client, a.userAgent)
	cfg := &oauth2.Config{
		ClientID: a.clientID,
		Scopes:   a.scopes,
		Endpoint: oauth2.Endpoint{DeviceAuthURL: a.deviceCodeURL, TokenURL: a.tokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}
	verifier := oauth2.GenerateVerifier()
	da, err := cfg.DeviceAuth(context.WithValue(ctx, oauth2.HTTPClient, client), oauth2.S256ChallengeOption(verifier))
	if err != nil {
		return nil, bearer.DeviceAuthFailure(Provider, err)
	}
	if err := bearer.ShowDeviceCode(prompt, Provider, da); err != nil {
		return nil, err
	}
	wait := maxDeviceWait
	if !da.Expiry.IsZero() {
		wait = min(time.Until(da.Expiry), maxDeviceWait)
	}
	deadline := a.now().Add(wait)

	interval := a.interval
	if da.Interval > 0 {
		interval = time.Duration(da.Interval) * time.Second
	}
	form := url.Values{
		"grant_type":    {deviceGrant},
		"client_id":     {a.clientID},
		"device_code":   {da.DeviceCode},
		"code_verifier": {verifier},
	}
	for {
		if err := a.sleep(ctx, interval); err != nil {
			return nil, err
		}
		if !a.now().Before(deadline) {
			return nil, fmt.Errorf("%s: login: %w", Provider, bearer.ErrDeviceCodeExpired)
		}
		start := a.now()
		tok, state, err := a.poll(ctx, client, form)
		switch {
		case err != nil:
			return nil, err
		case state == pollPending:
			continue
		case state == pollSlowDown:
			// Qwen answers slow_down with 429 and expects a gentler
			// back-off than RFC 8628's +5 s: ×1.5, capped.
			interval = min(interval*3/2, a.maxInterval)
			continue
		}
		return a.record(id, tok, start)
	}
}

func loginID(id records.ID) (records.ID, error) {
	if id.Provider == "" {
		id.Provider = Provider
	}
	if id.Namespace == "" {
		id.Namespace = records.DefaultNamespace
	}
	if id.Provider != Provider {
		return id, fmt.Errorf("%s: login for %s: %w", Provider, id, bearer.ErrWrongProvider)
	}
	return id, id.Validate()
}

type pollState int

const (
	pollDone pollState = iota
	pollPending
	pollSlowDown
)

// tokenResponse is the token endpoint's JSON answer, success or error.
type tokenResponse struct {
	AccessToken  string  `json:"access_token"`
	RefreshToken string  `json:"refresh_token"`
	TokenType    string  `json:"token_type"`
	ExpiresIn    seconds `json:"expires_in"`
	Scope        string  `json:"scope"`
	ResourceURL  string  `json:"resource_url"`
	Error        string  `json:"error"`
}

// seconds accepts a JSON number or a numeric string.
type seconds int64

func (s *seconds) UnmarshalJSON(b []byte) error {
	v := strings.Trim(string(b), `"`)
	if v == "" || v == "null" {
		*s = 0
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return errors.New("expires_in is not a number of seconds")
	}
	*s = seconds(min(n, int64(10*365*24*3600)))
	return nil
}

// poll makes one device token request. Qwen answers authorization_pending
// with 400 and slow_down with 429, not RFC 8628's 400 for both; any status
// is read by its error code.
func (a *Adapter) poll(ctx context.Context, client *http.Client, form url.Values) (*tokenResponse, pollState, error) {
	fail := func(status int, code string, err error) (*tokenResponse, pollState, error) {
		if !bearer.IsIdentifier(code) {
			code = ""
		}
		return nil, pollDone, &bearer.LoginError{Provider: Provider, Step: "token poll", Status: status, Code: code, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return fail(0, "", errors.New("cannot build the token request"))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, pollDone, ctx.Err()
		}
		return fail(0, "", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody+1))
	if err != nil {
		return fail(resp.StatusCode, "", errors.New("reading the token response failed"))
	}
	if len(body) > maxTokenBody {
		return fail(resp.StatusCode, "", errors.New("token response too large"))
	}
	var tr tokenResponse
	jerr := json.Unmarshal(body, &tr)
	switch {
	case jerr == nil && tr.Error == "authorization_pending":
		return nil, pollPending, nil
	case jerr == nil && tr.Error == "slow_down", resp.StatusCode == http.StatusTooManyRequests:
		return nil, pollSlowDown, nil
	case jerr == nil && tr.Error == "access_denied":
		return fail(resp.StatusCode, tr.Error, bearer.ErrAccessDenied)
	case jerr == nil && tr.Error == "expired_token":
		return fail(resp.StatusCode, tr.Error, bearer.ErrDeviceCodeExpired)
	case jerr == nil && tr.Error != "":
		return fail(resp.StatusCode, tr.Error, nil)
	case resp.StatusCode/100 != 2:
		return fail(resp.StatusCode, "", nil)
	case jerr != nil:
		return fail(resp.StatusCode, "", errors.New("malformed token response"))
	case tr.AccessToken == "":
		return fail(resp.StatusCode, "", errors.New("token response has no access_token"))
	}
	return &tr, pollDone, nil
}

func (a *Adapter) record(id records.ID, tr *tokenResponse, issued time.Time) (*records.Record, error) {
	if strings.ContainsAny(tr.AccessToken, "\x00\r\n\t ") || strings.ContainsAny(tr.RefreshToken, "\x00\r\n\t ") {
		return nil, &bearer.LoginError{Provider: Provider, Step: "token poll", Status: http.StatusOK, Err: errors.New("token holds characters that cannot be sent")}
	}
	rec := &records.Record{
		Provider:  id.Provider,
		Namespace: id.Namespace,
		Label:     id.Label,
		Kind:      records.KindOAuth,
		OAuth: &records.OAuth{
			Access:   records.Secret(tr.AccessToken),
			Refresh:  records.Secret(tr.RefreshToken),
			ClientID: a.clientID,
			Scopes:   strings.Fields(tr.Scope),
		},
	}
	if len(rec.OAuth.Scopes) == 0 {
		rec.OAuth.Scopes = append([]string(nil), a.scopes...)
	}
	if tr.ExpiresIn > 0 {
		rec.OAuth.Expiry = issued.Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	if a.tokenURL != DefaultTokenURL {
		rec.OAuth.TokenURL = a.tokenURL
	}
	if tr.ResourceURL != "" {
		if _, err := ResourceBaseURL(tr.ResourceURL); err != nil {
			return nil, &bearer.LoginError{Provider: Provider, Step: "token poll", Status: http.StatusOK, Code: "resource_url", Err: err}
		}
		rec.Meta = map[string]string{MetaResourceURL: tr.ResourceURL}
	}
	if err := rec.Validate(); err != nil {
		return nil, err
	}
	return rec, nil
}
