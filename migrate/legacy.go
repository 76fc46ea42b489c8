package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// LegacyLabel is the label SetLegacy gives the account it creates.
const LegacyLabel = "default"

// LegacyInfo is a credential as single-account code passes it: one OAuth
// token set or one API key per provider.
type LegacyInfo struct {
	// Access, Refresh and Expiry are an OAuth token set. An empty Refresh
	// keeps the record's refresh token (providers that do not rotate).
	Access  records.Secret
	Refresh records.Secret
	Expiry  time.Time
	// AccountID is the provider's account id; empty keeps the record's.
	AccountID string
	// Key is an API key. Set either Key or the OAuth fields, not both.
	Key records.Secret
	// OldRefresh is the refresh token being replaced, when the caller
	// refreshed: it finds the account among several.
	OldRefresh records.Secret
}

// ErrInvalidLegacy is returned by SetLegacy for a LegacyInfo that holds
// both or neither of an API key and OAuth tokens.
var ErrInvalidLegacy = errors.New("migrate: legacy credential must hold either an API key or OAuth tokens")

// SetLegacy stores a credential for code written for one account per
// provider. It updates, in one commit, the provider's record whose refresh
// token is info.OldRefresh; else the provider's first record in the
// vault's list order; else it creates provider/default/default. The
// record keeps its ID, Meta and, for an OAuth update, the fields info
// does not carry (id token, scopes, client, token URL). It returns the ID
// written.
func SetLegacy(ctx context.Context, v *vault.Vault, provider string, info LegacyInfo) (records.ID, error) {
	return setLegacy(ctx, vaultStore{v}, provider, info)
}

func setLegacy(ctx context.Context, target store, provider string, info LegacyInfo) (records.ID, error) {
	hasOAuth := info.Access != "" || info.Refresh != ""
	if hasOAuth == (info.Key != "") {
		return records.ID{}, ErrInvalidLegacy
	}
	var id records.ID
	err := target.Commit(ctx, func(tx txn) error {
		recs, err := tx.Records(provider)
		if err != nil {
			return fmt.Errorf("migrate: reading %s records: %w", provider, err)
		}
		rec := legacyTarget(recs, info.OldRefresh)
		if rec == nil {
			rec = &records.Record{Provider: provider, Namespace: records.DefaultNamespace, Label: LegacyLabel}
		} else {
			rec = rec.Clone()
		}
		old := rec.OAuth
		rec.OAuth, rec.API, rec.WellKnown = nil, nil, nil
		if !hasOAuth {
			rec.Kind, rec.API = records.KindAPI, &records.APIKey{Key: info.Key}
		} else {
			o := &records.OAuth{Access: info.Access, Refresh: info.Refresh, Expiry: info.Expiry, AccountID: info.AccountID}
			if old != nil {
				if o.Refresh == "" {
					o.Refresh = old.Refresh
				}
				if o.AccountID == "" {
					o.AccountID = old.AccountID
				}
				o.IDToken, o.Scopes = old.IDToken, slices.Clone(old.Scopes)
				o.ClientID, o.TokenURL = old.ClientID, old.TokenURL
			}
			rec.Kind, rec.OAuth = records.KindOAuth, o
		}
		if err := rec.Validate(); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		id = rec.ID()
		return tx.Put(rec)
	})
	if err != nil {
		return records.ID{}, err
	}
	return id, nil
}

// legacyTarget picks the record SetLegacy updates: the one whose refresh
// token is being replaced, else the first.
func legacyTarget(recs []*records.Record, oldRefresh records.Secret) *records.Record {
	if oldRefresh != "" {
		for _, r := range recs {
			if r.OAuth != nil && r.OAuth.Refresh == oldRefresh {
				return r
			}
		}
	}
	if len(recs) > 0 {
		return recs[0]
	}
	return nil
}
