package vault

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"filippo.io/age/plugin"

	"github.com/authvault/authvault/internal/envelope"
)

// FormatVersion is the vault layout version written by this package.
const FormatVersion = 1

const (
	headerName       = "vault.json"
	manifestName     = "manifest.avm"
	manifestNextName = "manifest.next.avm"
	recordsDir       = "records"
	stateDir         = "state"
	maxHeaderSize    = 1 << 20
)

// header is vault.json. Everything but DataKey is public; the MAC, keyed
// from the data key, binds the public fields so that an attacker without
// the key cannot add a recipient or change the vault id.
type header struct {
	Format     int       `json:"format"`
	VaultID    string    `json:"vault_id"`
	Created    time.Time `json:"created"`
	Recipients []string  `json:"recipients"`
	// DataKey is the 32-byte data key as an armored age file encrypted to
	// every recipient (the key slots).
	DataKey string `json:"data_key"`
	MAC     string `json:"mac"`
}

func (h *header) macInput() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "authvault header v%d\n%s\n%d\n", h.Format, h.VaultID, h.Created.UnixNano())
	for _, r := range h.Recipients {
		fmt.Fprintf(&b, "r %d %s\n", len(r), r)
	}
	fmt.Fprintf(&b, "k %d %s\n", len(h.DataKey), h.DataKey)
	return b.Bytes()
}

func newVaultID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("authvault: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// wrapDataKey encrypts dek to every recipient as an armored age file.
func wrapDataKey(dek []byte, recipients []age.Recipient) (string, error) {
	if len(recipients) == 0 {
		return "", errors.New("a vault needs at least one recipient")
	}
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, recipients...)
	if err != nil {
		return "", fmt.Errorf("wrapping the data key: %w", err)
	}
	if _, err := w.Write(dek); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	if err := aw.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// unwrapDataKey decrypts the data key with the first matching identity.
func unwrapDataKey(armored string, identities []age.Identity) ([]byte, error) {
	r, err := age.Decrypt(armor.NewReader(strings.NewReader(armored)), identities...)
	if err != nil {
		var nim *age.NoIdentityMatchError
		if errors.As(err, &nim) {
			return nil, ErrWrongKey
		}
		return nil, fmt.Errorf("%w: data key slot: %v", ErrCorrupt, err)
	}
	dek, err := io.ReadAll(io.LimitReader(r, envelope.DataKeySize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: data key slot: %v", ErrTampered, err)
	}
	if len(dek) != envelope.DataKeySize {
		return nil, fmt.Errorf("%w: data key is %d bytes", ErrCorrupt, len(dek))
	}
	return dek, nil
}

func parseHeader(data []byte) (*header, error) {
	if len(data) > maxHeaderSize {
		return nil, fmt.Errorf("%w: %s larger than %d bytes", ErrCorrupt, headerName, maxHeaderSize)
	}
	var probe struct {
		Format int `json:"format"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%w: %s is not valid JSON", ErrCorrupt, headerName)
	}
	if probe.Format != FormatVersion {
		return nil, fmt.Errorf("%w: %d (this build reads %d)", ErrUnsupportedVersion, probe.Format, FormatVersion)
	}
	var h header
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, headerName, err)
	}
	if h.VaultID == "" || h.DataKey == "" || h.MAC == "" || len(h.Recipients) == 0 {
		return nil, fmt.Errorf("%w: %s lacks a required field", ErrCorrupt, headerName)
	}
	return &h, nil
}

func (h *header) marshal() ([]byte, error) {
	b, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// seal computes the MAC under keys.
func (h *header) seal(keys *envelope.Keys) {
	h.MAC = base64.StdEncoding.EncodeToString(keys.MAC(h.macInput()))
}

// check verifies the MAC under keys.
func (h *header) check(keys *envelope.Keys) error {
	mac, err := base64.StdEncoding.DecodeString(h.MAC)
	if err != nil || !keys.CheckMAC(h.macInput(), mac) {
		return fmt.Errorf("%s: %w", headerName, ErrTampered)
	}
	return nil
}

// ParseRecipient parses one recipient in any form age knows: X25519
// (age1…), hybrid post-quantum (age1pq1…) or a plugin recipient
// (age1yubikey1…, which needs the plugin binary on PATH when used).
func ParseRecipient(s string) (age.Recipient, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "age1pq1"):
		return age.ParseHybridRecipient(s)
	case strings.HasPrefix(s, "age1"):
		if r, err := age.ParseX25519Recipient(s); err == nil {
			return r, nil
		}
		if _, _, err := plugin.ParseRecipient(s); err == nil {
			return plugin.NewRecipient(s, pluginUI)
		}
	}
	return nil, fmt.Errorf("%q is not an age recipient (age1…, age1pq1… or a plugin recipient)", s)
}

// pluginUI reports plugin messages on stderr; plugins that need a PIN or a
// touch use their own prompts.
var pluginUI = &plugin.ClientUI{
	DisplayMessage: func(name, message string) error {
		fmt.Fprintf(os.Stderr, "age-plugin-%s: %s\n", name, message)
		return nil
	},
	RequestValue: func(name, message string, secret bool) (string, error) {
		return "", fmt.Errorf("age-plugin-%s asked for input (%s), which this program cannot provide", name, message)
	},
	Confirm: func(name, message, yes, no string) (bool, error) {
		return false, fmt.Errorf("age-plugin-%s asked for confirmation (%s), which this program cannot provide", name, message)
	},
	WaitTimer: func(name string) {
		fmt.Fprintf(os.Stderr, "waiting on age-plugin-%s (touch your security key?)\n", name)
	},
}

// recipientString returns a recipient's public string form.
func recipientString(r age.Recipient) (string, error) {
	if s, ok := r.(fmt.Stringer); ok {
		return s.String(), nil
	}
	return "", fmt.Errorf("recipient of type %T has no string form", r)
}

// ReadID returns the id of the vault in dir without opening it: the id is
// public (it names the vault's keyring entry, for instance). A directory
// without a vault is ErrNoVault.
func ReadID(dir string) (string, error) {
	ds := newDirStore(dir, true)
	defer ds.Close()
	id, err := StoreID(ds)
	if errors.Is(err, ErrNoVault) {
		return "", fmt.Errorf("%s: %w", dir, err)
	}
	return id, err
}
