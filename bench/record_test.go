package bench

import (
	"strings"
	"time"

	"github.com/authvault/authvault/records"
)

// sampleRecord is a typical OAuth account, with tokens as long as a
// provider's: what an auth.json holds per provider today.
func sampleRecord(label string) *records.Record {
	return &records.Record{
		Provider:  "anthropic",
		Namespace: records.DefaultNamespace,
		Label:     label,
		Kind:      records.KindOAuth,
		OAuth: &records.OAuth{
			Access:   records.Secret("sk-ant-oat01-" + strings.Repeat("a", 95)),
			Refresh:  records.Secret("sk-ant-ort01-" + strings.Repeat("b", 95)),
			Expiry:   time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
			Scopes:   []string{"user:inference", "user:profile"},
			ClientID: "bench-client",
		},
		Meta: map[string]string{"email": label, "plan": "max"},
	}
}

// authJSON is the same account as a tool without authvault keeps it: a
// plain struct that encoding/json reads and writes. Its fields mirror the
// vault's record codec, so json.Marshal of it writes exactly the bytes
// records.Marshal does (TestStoreAlternativesAgree checks): every
// alternative stores the same JSON document.
type authJSON struct {
	V          int               `json:"v"`
	Provider   string            `json:"provider"`
	Namespace  string            `json:"namespace"`
	Label      string            `json:"label"`
	Kind       string            `json:"kind"`
	OAuth      *authJSONOAuth    `json:"oauth,omitempty"`
	Meta       map[string]string `json:"meta,omitempty"`
	Created    time.Time         `json:"created,omitzero"`
	Updated    time.Time         `json:"updated,omitzero"`
	Generation uint64            `json:"generation"`
}

type authJSONOAuth struct {
	Access   string    `json:"access,omitempty"`
	Refresh  string    `json:"refresh,omitempty"`
	Expiry   time.Time `json:"expiry,omitzero"`
	Scopes   []string  `json:"scopes,omitempty"`
	ClientID string    `json:"client_id,omitempty"`
}

// authJSONFrom converts an OAuth record (the only kind these benchmarks
// store) to the plain struct.
func authJSONFrom(r *records.Record) *authJSON {
	return &authJSON{
		V: records.CodecVersion, Provider: r.Provider, Namespace: r.Namespace, Label: r.Label,
		Kind: string(r.Kind), Meta: r.Meta, Created: r.Created, Updated: r.Updated, Generation: r.Generation,
		OAuth: &authJSONOAuth{
			Access: r.OAuth.Access.Reveal(), Refresh: r.OAuth.Refresh.Reveal(), Expiry: r.OAuth.Expiry,
			Scopes: r.OAuth.Scopes, ClientID: r.OAuth.ClientID,
		},
	}
}

// record converts back, for comparing what each alternative read.
func (a *authJSON) record() *records.Record {
	r := &records.Record{
		Provider: a.Provider, Namespace: a.Namespace, Label: a.Label, Kind: records.Kind(a.Kind),
		Meta: a.Meta, Created: a.Created, Updated: a.Updated, Generation: a.Generation,
	}
	if o := a.OAuth; o != nil {
		r.OAuth = &records.OAuth{
			Access: records.Secret(o.Access), Refresh: records.Secret(o.Refresh), Expiry: o.Expiry,
			Scopes: o.Scopes, ClientID: o.ClientID,
		}
	}
	return r
}
