package vault

import (
	"strings"

	"filippo.io/age"
)

// PostQuantum reports whether recipient is a hybrid post-quantum age
// recipient (age1pq1…, from age-keygen -pq).
func PostQuantum(recipient string) bool {
	return strings.HasPrefix(strings.TrimSpace(recipient), "age1pq1")
}

// Mixed reports whether recipients hold both post-quantum and classic
// (X25519 or plugin) recipients. The data key of such a vault is only as
// strong as its classic recipients: a quantum computer that breaks
// X25519 unwraps it from the classic slot.
func Mixed(recipients []string) bool {
	var pq, classic bool
	for _, r := range recipients {
		if PostQuantum(r) {
			pq = true
		} else {
			classic = true
		}
	}
	return pq && classic
}

// Fingerprint returns a short form of a recipient for messages: its type
// prefix and its first and last eight characters, e.g.
// "age1pq1z6fgm5er…mztq4cpl" for a post-quantum recipient of some 2,000
// characters. Its end is in the recipient's checksum, so two recipients
// that differ anywhere almost surely differ there too. Short recipients
// are returned whole.
func Fingerprint(recipient string) string {
	s := strings.TrimSpace(recipient)
	i := strings.LastIndexByte(s, '1') // bech32: the prefix ends at the last '1'
	if i < 0 || len(s)-i-1 <= 20 {
		return s
	}
	data := s[i+1:]
	return s[:i+1] + data[:8] + "…" + data[len(data)-8:]
}

// AddOption adjusts AddRecipient.
type AddOption func(*addOptions)

type addOptions struct {
	allowClassic bool
}

// AllowClassic lets AddRecipient give a vault whose recipients are
// post-quantum a classic one (X25519 or a plugin's, such as a YubiKey's),
// or the reverse. age refuses that mix by default: the data key is then
// only as strong as the classic recipient. Once a vault's recipients mix
// the two kinds, later re-wrappings (AddRecipient, RemoveRecipient, Rekey)
// keep accepting the mix until no classic recipient is left.
func AllowClassic() AddOption {
	return func(o *addOptions) { o.allowClassic = true }
}

// classicWrap hides a recipient's labels from age.Encrypt, which is how
// the age API lets a caller mix post-quantum and classic recipients on
// purpose.
type classicWrap struct{ r age.Recipient }

func (c classicWrap) Wrap(fileKey []byte) ([]*age.Stanza, error) { return c.r.Wrap(fileKey) }

// unlabeled returns rs with their labels hidden.
func unlabeled(rs []age.Recipient) []age.Recipient {
	out := make([]age.Recipient, len(rs))
	for i, r := range rs {
		out[i] = classicWrap{r}
	}
	return out
}
