package copilot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/adapters/provider"
	"github.com/authvault/authvault/records"
)

// maxBody bounds every answer the adapter reads itself.
const maxBody = 1 << 20

// maxTokenLife caps how long a Copilot token is trusted, whatever the
// server says (they live about 30 minutes).
const maxTokenLife = 24 * time.Hour

// expiryMargin is how long before expires_at a token is replaced when the
// exchange gives no refresh_in.
const expiryMargin = 5 * time.Minute

// exchange is the copilot_internal/v2/token answer.
type exchange struct {
	Token     string `json:"token"`
	ExpiresAt int64  `json:"expires_at"`
	RefreshIn int64  `json:"refresh_in"`
	Endpoints struct {
		API string `json:"api"`
	} `json:"endpoints"`
	SKU string `json:"sku"`
}

// forbidden is the body of a 403 without a Copilot seat.
type forbidden struct {
	ErrorDetails struct {
		NotificationID string `json:"notification_id"`
	} `json:"error_details"`
}

// Refresh exchanges the GitHub token in rec.OAuth.Refresh for a Copilot
// token: GET https://api.HOST/copilot_internal/v2/token with
// "Authorization: token <GitHub token>". The result is a copy of rec with
// the Copilot token in OAuth.Access, Meta["api_endpoint"] and Meta["plan"].
//
// OAuth.Expiry is set to when GitHub asks clients to fetch a new token:
// the request's start plus refresh_in (about 25 minutes), and never after
// expires_at (about 30 minutes). The start is read before the request, so
// the recorded expiry is early rather than late, and refresh_in is relative,
// so a skewed local clock does not matter; a transport that refreshes a
// skew ahead of Expiry only refreshes earlier. Without refresh_in it is
// expires_at minus 5 minutes.
//
// Failures are *adapters.RefreshError: 401 (a revoked or expired GitHub
// token), 403 and 404 (ErrNoCopilotAccess: no seat) are Permanent; a 403
// that is GitHub's rate limit, 429, 5xx, network errors and unusable
// answers are not.
func (a *adapter) Refresh(ctx context.Context, client *http.Client, rec *records.Record) (*records.Record, error) {
	out, err := a.refresh(ctx, client, rec)
	// A token endpoint may echo the token it was sent as its error code.
	return out, adapters.ScrubRefreshError(err, adapters.RecordCredentials(rec))
}

// refresh is Refresh before the error is scrubbed.
func (a *adapter) refresh(ctx context.Context, client *http.Client, rec *records.Record) (*records.Record, error) {
	if err := a.check(rec); err != nil {
		return nil, err
	}
	gh := rec.OAuth.Refresh
	if gh.IsZero() {
		return nil, fmt.Errorf("%s: %s: no GitHub token: %w", Provider, rec.ID(), adapters.ErrNotRefreshable)
	}
	if strings.ContainsFunc(gh.Reveal(), func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, fmt.Errorf("%s: %s: GitHub %w", Provider, rec.ID(), provider.ErrInvalidToken)
	}
	ep, err := a.endpoints(rec.Namespace)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", Provider, rec.ID(), err)
	}
	fail := func(status int, code string, permanent bool, cause error) (*records.Record, error) {
		return nil, &adapters.RefreshError{Provider: Provider, Status: status, Code: code, Permanent: permanent, Err: cause}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.CopilotTokenURL, nil)
	if err != nil {
		return fail(0, "", false, errors.New("cannot build the token exchange request"))
	}
	req.Header.Set("Authorization", "token "+gh.Reveal())
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", a.device.UserAgent)
	req.Header.Set("Editor-Version", a.editorVersion)
	start := a.device.Now()
	resp, err := httpClient(client).Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fail(0, "", false, ctx.Err())
		}
		return fail(0, "", false, err) // a *url.Error: names the exchange URL, never the header
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return fail(resp.StatusCode, "", false, errors.New("reading the token exchange answer failed"))
	}
	if len(body) > maxBody {
		return fail(resp.StatusCode, "", false, fmt.Errorf("%w: larger than %d bytes", provider.ErrMalformedResponse, maxBody))
	}
	switch st := resp.StatusCode; {
	case st == http.StatusUnauthorized:
		return fail(st, "bad_credentials", true, nil)
	case st == http.StatusForbidden && githubRateLimited(resp.Header):
		return fail(st, "rate_limited", false, nil)
	case st == http.StatusForbidden, st == http.StatusNotFound:
		code := "no_copilot_access"
		var f forbidden
		if json.Unmarshal(body, &f) == nil && provider.Code(f.ErrorDetails.NotificationID) != "" {
			code = f.ErrorDetails.NotificationID
		}
		return fail(st, code, true, ErrNoCopilotAccess)
	case st/100 != 2:
		return fail(st, "", false, nil)
	}
	var x exchange
	if err := json.Unmarshal(body, &x); err != nil {
		return fail(resp.StatusCode, "", false, provider.ErrMalformedResponse)
	}
	if x.Token == "" || strings.ContainsFunc(x.Token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fail(resp.StatusCode, "", false, fmt.Errorf("%w: no usable token", provider.ErrMalformedResponse))
	}
	expiry, ok := copilotExpiry(start, x.ExpiresAt, x.RefreshIn)
	if !ok {
		return fail(resp.StatusCode, "", false, fmt.Errorf("%w: no usable expires_at or refresh_in", provider.ErrMalformedResponse))
	}
	out := rec.Clone()
	out.OAuth.Access = records.Secret(x.Token)
	out.OAuth.Expiry = expiry
	if out.Meta == nil {
		out.Meta = map[string]string{}
	}
	if x.Endpoints.API != "" {
		u, err := provider.ParseBaseURL(x.Endpoints.API, true)
		if err != nil {
			return fail(resp.StatusCode, "", false, fmt.Errorf("%w: endpoints.api: %w", provider.ErrMalformedResponse, err))
		}
		out.Meta[MetaAPIEndpoint] = u.String()
	}
	if provider.Code(x.SKU) != "" {
		out.Meta[MetaPlan] = x.SKU
	}
	return out, nil
}

// copilotExpiry computes OAuth.Expiry; see Refresh.
func copilotExpiry(start time.Time, expiresAt, refreshIn int64) (time.Time, bool) {
	var hard time.Time
	if expiresAt > 0 && expiresAt < start.Add(maxTokenLife).Unix() {
		hard = time.Unix(expiresAt, 0)
	}
	if refreshIn > 0 {
		soft := start.Add(time.Duration(min(refreshIn, int64(maxTokenLife/time.Second))) * time.Second)
		if !hard.IsZero() && hard.After(start) && hard.Before(soft) {
			return hard, true
		}
		return soft, true
	}
	if hard.IsZero() {
		return time.Time{}, false
	}
	t := hard.Add(-expiryMargin)
	if !t.After(start) {
		return time.Time{}, false
	}
	return t, true
}

// githubRateLimited reports whether a 403 is GitHub's API rate limit
// rather than a refusal.
func githubRateLimited(h http.Header) bool {
	return h.Get("X-Ratelimit-Remaining") == "0" || h.Get("Retry-After") != ""
}

func httpClient(c *http.Client) *http.Client {
	if c == nil {
		return http.DefaultClient
	}
	return c
}
