package migrate

import (
	"maps"
	"slices"
	"time"

	"github.com/authvault/authvault/records"
)

// identity is the secret that makes a credential itself: the refresh
// token of an OAuth grant (access tokens come and go), the key, the
// well-known token. Two records with one identity are one credential.
func identity(r *records.Record) string {
	switch {
	case r.OAuth != nil && r.OAuth.Refresh != "":
		return "oauth\x00" + r.OAuth.Refresh.Reveal()
	case r.API != nil && r.API.Key != "":
		return "api\x00" + r.API.Key.Reveal()
	case r.WellKnown != nil && r.WellKnown.Token != "":
		return "wellknown\x00" + r.WellKnown.Token.Reveal()
	}
	return ""
}

func accountID(r *records.Record) string {
	if r.OAuth == nil {
		return ""
	}
	return r.OAuth.AccountID
}

// sameAccount reports whether two found records are one account: one
// provider, namespace and kind, and the same credential or account id.
func sameAccount(a, b *records.Record) bool {
	if a.Provider != b.Provider || a.Namespace != b.Namespace || a.Kind != b.Kind {
		return false
	}
	if id := identity(a); id != "" && id == identity(b) {
		return true
	}
	acct := accountID(a)
	return acct != "" && acct == accountID(b)
}

// matchExisting finds the vault record a found record belongs to: the one
// holding the same credential (same provider and kind), else the one with
// the same account id (same provider and namespace), else the one with the
// same ID, of any kind.
func matchExisting(existing []*records.Record, r *records.Record) *records.Record {
	if id := identity(r); id != "" {
		for _, e := range existing {
			if e != nil && e.Provider == r.Provider && e.Kind == r.Kind && identity(e) == id {
				return e
			}
		}
	}
	if acct := accountID(r); acct != "" {
		for _, e := range existing {
			if e != nil && e.Provider == r.Provider && e.Namespace == r.Namespace && accountID(e) == acct {
				return e
			}
		}
	}
	for _, e := range existing {
		if e != nil && e.ID() == r.ID() {
			return e
		}
	}
	return nil
}

func expiry(r *records.Record) time.Time {
	if r.OAuth == nil {
		return time.Time{}
	}
	return r.OAuth.Expiry
}

// newer reports whether credential a (last changed at at) should replace
// b (last changed at bt): a later expiry when both have one, else a later
// change. An unknown time is never newer.
func newer(a *records.Record, at time.Time, b *records.Record, bt time.Time) bool {
	ea, eb := expiry(a), expiry(b)
	if !ea.IsZero() && !eb.IsZero() && !ea.Equal(eb) {
		return ea.After(eb)
	}
	return !at.IsZero() && at.After(bt)
}

// merge returns base updated with the credential of r, which has the same
// kind. Fields r leaves empty keep base's values (account id, id token,
// scopes, client, token URL), and so do the access token and expiry when r
// has none and holds the same refresh token: a GitHub token imported from
// Copilot's files must not wipe the Copilot token the vault already
// exchanged it for. Meta is base's overlaid with r's.
func merge(base, r *records.Record) *records.Record {
	out := base.Clone()
	out.Kind = r.Kind
	out.OAuth, out.API, out.WellKnown = nil, nil, nil
	switch {
	case r.OAuth != nil:
		o := *r.OAuth
		o.Scopes = slices.Clone(o.Scopes)
		if b := base.OAuth; b != nil {
			if o.Access == "" && o.Refresh == b.Refresh {
				o.Access = b.Access
				if o.Expiry.IsZero() {
					o.Expiry = b.Expiry
				}
			}
			if o.AccountID == "" {
				o.AccountID = b.AccountID
			}
			if o.IDToken == "" {
				o.IDToken = b.IDToken
			}
			if len(o.Scopes) == 0 {
				o.Scopes = slices.Clone(b.Scopes)
			}
			if o.ClientID == "" {
				o.ClientID = b.ClientID
			}
			if o.TokenURL == "" {
				o.TokenURL = b.TokenURL
			}
		}
		out.OAuth = &o
	case r.API != nil:
		a := *r.API
		out.API = &a
	case r.WellKnown != nil:
		w := *r.WellKnown
		out.WellKnown = &w
	}
	if len(r.Meta) > 0 {
		if out.Meta == nil {
			out.Meta = map[string]string{}
		}
		maps.Copy(out.Meta, r.Meta)
	}
	return out
}

// sameCredential compares the kinds and credential sections of a and b.
func sameCredential(a, b *records.Record) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch {
	case a.OAuth != nil && b.OAuth != nil:
		x, y := a.OAuth, b.OAuth
		return x.Access == y.Access && x.Refresh == y.Refresh && x.Expiry.Equal(y.Expiry) &&
			x.AccountID == y.AccountID && x.IDToken == y.IDToken && slices.Equal(x.Scopes, y.Scopes) &&
			x.ClientID == y.ClientID && x.TokenURL == y.TokenURL
	case a.API != nil && b.API != nil:
		return a.API.Key == b.API.Key
	case a.WellKnown != nil && b.WellKnown != nil:
		return *a.WellKnown == *b.WellKnown
	}
	return false
}

// metaSubset reports whether every entry of sub is in m.
func metaSubset(sub, m map[string]string) bool {
	for k, v := range sub {
		if w, ok := m[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// labelRank orders how well a label names an account: an email beats an
// account id, which beats a source name.
func labelRank(r *records.Record) int {
	switch {
	case r.Label != "" && r.Label == r.Meta["email"]:
		return 3
	case r.Label != "" && r.Label == accountID(r):
		return 2
	}
	return 1
}
