package migrate

import (
	"github.com/authvault/authvault/records"
)

// label picks an account's label: the first candidate that is a valid
// label (an email, then an account id), else the source's name. Invalid
// candidates are passed over silently: they are names, not credentials,
// and the record is still worth importing.
func label(source string, candidates ...string) string {
	for _, c := range candidates {
		if c != "" && (records.ID{Provider: "x", Namespace: "x", Label: c}).Validate() == nil {
			return c
		}
	}
	return source
}

// meta builds a Meta map from key, value pairs, leaving out empty values;
// nil when all are empty.
func meta(kv ...string) map[string]string {
	var m map[string]string
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		if m == nil {
			m = map[string]string{}
		}
		m[kv[i]] = kv[i+1]
	}
	return m
}

// oauthRecord builds an OAuth record in the default namespace.
func oauthRecord(provider, label string, o *records.OAuth, m map[string]string) *records.Record {
	return &records.Record{
		Provider: provider, Namespace: records.DefaultNamespace, Label: label,
		Kind: records.KindOAuth, OAuth: o, Meta: m,
	}
}
