package provider

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/records"
)

// ResolveRefresh checks that rec can be refreshed and resolves the client
// id and token URL: the record's own (tokens are bound to the client they
// were issued to) else the adapter's defaults. It returns
// adapters.ErrNotRefreshable for records that are not OAuth, and a
// permanent *adapters.RefreshError when the refresh token or every
// client id is missing, so that no request is sent.
func ResolveRefresh(providerID string, rec *records.Record, defaultClientID, defaultTokenURL string) (clientID, tokenURL string, err error) {
	if rec == nil || rec.Kind != records.KindOAuth || rec.OAuth == nil {
		return "", "", adapters.ErrNotRefreshable
	}
	if rec.OAuth.Refresh.IsZero() {
		return "", "", &adapters.RefreshError{Provider: providerID, Permanent: true, Err: ErrNoRefreshToken}
	}
	clientID, tokenURL = cmp.Or(rec.OAuth.ClientID, defaultClientID), cmp.Or(rec.OAuth.TokenURL, defaultTokenURL)
	if clientID == "" {
		return "", "", &adapters.RefreshError{Provider: providerID, Permanent: true, Err: ErrClientIDRequired}
	}
	return clientID, tokenURL, nil
}

// RefreshGrant is the refresh_token grant (RFC 6749 §6) as one provider
// takes it: the adapter's defaults for records that name no client id or
// token endpoint, and the request's shape.
type RefreshGrant struct {
	Provider string
	ClientID string
	TokenURL string
	// JSON and Header shape the request (see Request).
	JSON   bool
	Header http.Header
}

// Run sends the grant for rec (see ResolveRefresh) and returns a copy of
// rec with the answer applied (see TokenResponse.Apply, with the time
// now returns after the answer) and the client id it was sent as, and
// the answer itself for what the provider reads from it besides. Its
// errors are those Adapter.Refresh returns.
func (g RefreshGrant) Run(ctx context.Context, client *http.Client, rec *records.Record, now func() time.Time) (*records.Record, *TokenResponse, error) {
	clientID, tokenURL, err := ResolveRefresh(g.Provider, rec, g.ClientID, g.TokenURL)
	if err != nil {
		return nil, nil, err
	}
	tok, err := postToken(ctx, client, Request{
		URL: tokenURL,
		Params: url.Values{
			"grant_type":    {"refresh_token"},
			"refresh_token": {rec.OAuth.Refresh.Reveal()},
			"client_id":     {clientID},
		},
		JSON:   g.JSON,
		Header: g.Header,
	})
	if err != nil {
		return nil, nil, AsRefreshError(g.Provider, err)
	}
	out := rec.Clone()
	tok.Apply(out.OAuth, now())
	out.OAuth.ClientID = clientID
	return out, tok, nil
}

// RefreshFailure turns an error from a golang.org/x/oauth2 token request
// (a refresh, or a code exchange) into an *adapters.RefreshError without
// copying the response body or the server's description (either could
// echo a credential). It is the rule for servers authvault knows nothing
// about (adapters/bearer); AsRefreshError is the one for known codes.
//
// An *oauth2.RetrieveError is Permanent when the server refused the grant
// for good: any 4xx, or an error code on a 2xx, except 429 and the codes
// temporarily_unavailable, server_error, slow_down and
// authorization_pending. 5xx answers, network errors and cancellations are
// not Permanent. Unusable 2xx answers wrap ErrMalformedResponse.
func RefreshFailure(providerID string, err error) *adapters.RefreshError {
	re := &adapters.RefreshError{Provider: providerID}
	var rerr *oauth2.RetrieveError
	var uerr *url.Error
	switch {
	case errors.As(err, &rerr):
		if rerr.Response != nil {
			re.Status = rerr.Response.StatusCode
		}
		if Code(rerr.ErrorCode) != "" {
			re.Code = rerr.ErrorCode
		} else if rerr.ErrorCode != "" {
			re.Code = "invalid_error_code"
		}
		re.Permanent = permanentRefusal(re.Status, rerr.ErrorCode)
	case errors.Is(err, context.DeadlineExceeded):
		re.Err = context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		re.Err = context.Canceled
	case errors.As(err, &uerr):
		// The URL is the configured token endpoint; the form body, which
		// holds the refresh token, is not part of the error.
		re.Err = uerr
	default:
		re.Err = ErrMalformedResponse
	}
	return re
}

func permanentRefusal(status int, code string) bool {
	switch code {
	case "temporarily_unavailable", "server_error", "slow_down", "authorization_pending":
		return false
	}
	switch {
	case status == http.StatusTooManyRequests, status >= 500:
		return false
	case status >= 400:
		return true
	}
	return code != ""
}
