package copilot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/authvault/authvault/adapters/bearer"
	"github.com/authvault/authvault/records"
)

// deviceGrant is RFC 8628's grant type.
const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

// maxDeviceWait bounds a login whose device code names no expiry.
const maxDeviceWait = 15 * time.Minute

// slowDownStep is what GitHub adds to the interval on slow_down when its
// answer does not name the new interval.
const slowDownStep = 5 * time.Second

// Login signs a GitHub account in with the device flow and returns its
// Copilot record for id. id.Namespace is the GitHub host ("default" or
// empty for github.com, else an enterprise host such as "octocorp.ghe.com");
// id.Label is required. The verification URL and user code are written to
// prompt; GitHub is then polled at the interval it asks for (slow_down
// raises it). Once approved, the GitHub token is exchanged for a first
// Copilot token (see Refresh), so an account without a seat fails here,
// with an error wrapping ErrNoCopilotAccess, rather than at first use.
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
	if id.Provider == "" {
		id.Provider = Provider
	}
	if id.Namespace == "" {
		id.Namespace = records.DefaultNamespace
	}
	if id.Provider != Provider {
		return nil, fmt.Errorf("%s: login for %s: %w", Provider, id, bearer.ErrWrongProvider)
	}
	if err := id.Validate(); err != nil {
		return nil, err
	}
	ep, err := a.endpoints(id.Namespace)
	if err != nil {
		return nil, fmt.Errorf("%s: login: %w", Provider, err)
	}
	client = bearer.ClientWithUserAgent(client, a.userAgent)
	cfg := &oauth2.Config{
		ClientID: a.clientID,
		Scopes:   []string{Scope},
		Endpoint: oauth2.Endpoint{DeviceAuthURL: ep.DeviceCodeURL, TokenURL: ep.AccessTokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}
	da, err := cfg.DeviceAuth(context.WithValue(ctx, oauth2.HTTPClient, client))
	if err != nil {
		return nil, bearer.DeviceAuthFailure(Provider, err)
	}
	if err := bearer.ShowDeviceCode(prompt, Provider, da); err != nil {
		return nil, err
	}
	gh, err := a.pollDevice(ctx, client, ep, da)
	if err != nil {
		return nil, err
	}
	rec := &records.Record{
		Provider:  id.Provider,
		Namespace: id.Namespace,
		Label:     id.Label,
		Kind:      records.KindOAuth,
		OAuth: &records.OAuth{
			Refresh:  records.Secret(gh.AccessToken),
			ClientID: a.clientID,
			Scopes:   strings.FieldsFunc(gh.Scope, func(r rune) bool { return r == ',' || r == ' ' }),
		},
	}
	out, err := a.Refresh(ctx, client, rec)
	if err != nil {
		return nil, &bearer.LoginError{Provider: Provider, Step: "Copilot token exchange", Err: err}
	}
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return out, nil
}

// githubToken is the access token endpoint's JSON answer. GitHub answers
// pending and slow_down with HTTP 200 and an "error" field.
type githubToken struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	Scope       string `json:"scope"`
	Error       string `json:"error"`
	Interval    int64  `json:"interval"`
}

func (a *Adapter) pollDevice(ctx context.Context, client *http.Client, ep Endpoints, da *oauth2.DeviceAuthResponse) (*githubToken, error) {
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
		"client_id":   {a.clientID},
		"device_code": {da.DeviceCode},
		"grant_type":  {deviceGrant},
	}
	for {
		if err := a.sleep(ctx, interval); err != nil {
			return nil, err
		}
		if !a.now().Before(deadline) {
			return nil, fmt.Errorf("%s: login: %w", Provider, bearer.ErrDeviceCodeExpired)
		}
		tok, status, err := a.pollOnce(ctx, client, ep.AccessTokenURL, form)
		if err != nil {
			return nil, err
		}
		fail := func(code string, cause error) (*githubToken, error) {
			if !bearer.IsIdentifier(code) {
				code = ""
			}
			return nil, &bearer.LoginError{Provider: Provider, Step: "token poll", Status: status, Code: code, Err: cause}
		}
		switch tok.Error {
		case "":
		case "authorization_pending":
			continue
		case "slow_down":
			next := interval + slowDownStep
			if s := time.Duration(tok.Interval) * time.Second; tok.Interval > 0 && tok.Interval < 3600 && s > interval {
				next = s
			}
			interval = next
			continue
		case "access_denied":
			return fail(tok.Error, bearer.ErrAccessDenied)
		case "expired_token":
			return fail(tok.Error, bearer.ErrDeviceCodeExpired)
		default:
			return fail(tok.Error, nil)
		}
		if status/100 != 2 {
			return fail("", nil)
		}
		if tok.AccessToken == "" || strings.ContainsFunc(tok.AccessToken, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return fail("", errors.New("answer has no usable access_token"))
		}
		return tok, nil
	}
}

// pollOnce makes one access token request. A non-JSON answer is an error;
// a JSON one is returned with its status for the caller to read.
func (a *Adapter) pollOnce(ctx context.Context, client *http.Client, tokenURL string, form url.Values) (*githubToken, int, error) {
	fail := func(status int, cause error) (*githubToken, int, error) {
		return nil, status, &bearer.LoginError{Provider: Provider, Step: "token poll", Status: status, Err: cause}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return fail(0, errors.New("cannot build the token request"))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		return fail(0, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		return fail(resp.StatusCode, errors.New("unreadable or oversized answer"))
	}
	var tok githubToken
	if err := json.Unmarshal(body, &tok); err != nil {
		return fail(resp.StatusCode, errors.New("answer is not JSON"))
	}
	return &tok, resp.StatusCode, nil
}
