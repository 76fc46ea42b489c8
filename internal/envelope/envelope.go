// Package envelope seals the blobs of a vault: one key per purpose derived
// from the vault's data key, AES-256-GCM under a random nonce, and the vault
// id, the blob's kind and its name bound into the additional data, so that
// a blob opens only in its vault, under its kind and under its name.
// SECURITY.md describes the format; package vault is its one user, and the
// fuzz package checks it. Its errors are the records package's
// (ErrTampered, ErrEnvelopeFormat, ErrEnvelopeVersion), which callers of the
// vault test for.
package envelope

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"fmt"

	"github.com/authvault/authvault/records"
)

// The sealed envelope:
//
//	magic "AVB1" (4 bytes) | format version (1 byte) | blob kind (1 byte) |
//	nonce (12 bytes, random) | AES-256-GCM ciphertext and 16-byte tag
//
// The GCM additional data is the 6-byte prefix followed by the
// length-prefixed vault id and blob name, so a blob only opens in the vault,
// under the kind and under the name it was sealed for.
const (
	envelopeMagic = "AVB1"
	Version       = 1
	headerLen     = len(envelopeMagic) + 2
	nonceLen      = 12
	tagLen        = 16
	// Overhead is the size a sealed blob adds to its plaintext.
	Overhead = headerLen + nonceLen + tagLen
)

// BlobKind says what a sealed blob holds; it is bound into the envelope.
type BlobKind byte

// The blob kinds.
const (
	BlobRecord   BlobKind = 'r'
	BlobManifest BlobKind = 'm'
	BlobState    BlobKind = 's'
)

// Keys are the per-purpose keys derived from a vault's data key.
type Keys struct {
	records   cipher.AEAD
	manifest  cipher.AEAD
	state     cipher.AEAD
	names     []byte
	headerMAC []byte
	vaultID   string
}

// DataKeySize is the size of a vault data key.
const DataKeySize = 32

// DeriveKeys derives the record, manifest, state, header-MAC and file-name keys
// from a 32-byte data key with HKDF-SHA256, salted with the vault id. The
// caller may zero dek afterwards.
func DeriveKeys(dek []byte, vaultID string) (*Keys, error) {
	if len(dek) != DataKeySize {
		return nil, fmt.Errorf("data key is %d bytes, want %d", len(dek), DataKeySize)
	}
	k := &Keys{vaultID: vaultID}
	aead := func(purpose string) (cipher.AEAD, error) {
		key, err := hkdf.Key(sha256.New, dek, []byte(vaultID), "authvault v1 "+purpose, 32)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(key)
		clear(key)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(block)
	}
	var err error
	if k.records, err = aead("records"); err != nil {
		return nil, err
	}
	if k.manifest, err = aead("manifest"); err != nil {
		return nil, err
	}
	if k.state, err = aead("state"); err != nil {
		return nil, err
	}
	if k.names, err = hkdf.Key(sha256.New, dek, []byte(vaultID), "authvault v1 names", 32); err != nil {
		return nil, err
	}
	if k.headerMAC, err = hkdf.Key(sha256.New, dek, []byte(vaultID), "authvault v1 header mac", 32); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *Keys) aead(kind BlobKind) (cipher.AEAD, error) {
	switch kind {
	case BlobRecord:
		return k.records, nil
	case BlobManifest:
		return k.manifest, nil
	case BlobState:
		return k.state, nil
	}
	return nil, fmt.Errorf("%w: unknown blob kind %#x", records.ErrEnvelopeFormat, byte(kind))
}

var nameEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// FileName returns the opaque file name for a name such as a record ID: an
// HMAC under the names key, so file names reveal nothing about accounts.
func (k *Keys) FileName(name string) string {
	m := hmac.New(sha256.New, k.names)
	m.Write([]byte(name))
	return nameEncoding.EncodeToString(m.Sum(nil)[:20])
}

func (k *Keys) additionalData(dst []byte, prefix []byte, name string) []byte {
	dst = append(dst, prefix...)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(k.vaultID)))
	dst = append(dst, k.vaultID...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(name)))
	return append(dst, name...)
}

// Seal encrypts plaintext as a blob of the given kind stored under name.
func (k *Keys) Seal(kind BlobKind, name string, plaintext []byte) ([]byte, error) {
	aead, err := k.aead(kind)
	if err != nil {
		return nil, err
	}
	out := make([]byte, headerLen+nonceLen, Overhead+len(plaintext))
	copy(out, envelopeMagic)
	out[4] = Version
	out[5] = byte(kind)
	if _, err := rand.Read(out[headerLen:]); err != nil {
		return nil, err
	}
	var adBuf [128]byte
	ad := k.additionalData(adBuf[:0], out[:headerLen], name)
	return aead.Seal(out, out[headerLen:headerLen+nonceLen], plaintext, ad), nil
}

// Open authenticates and decrypts a blob that must be of the given kind and
// stored under name. Anything else is records.ErrTampered,
// records.ErrEnvelopeFormat or records.ErrEnvelopeVersion.
func (k *Keys) Open(kind BlobKind, name string, blob []byte) ([]byte, error) {
	if len(blob) < Overhead || string(blob[:4]) != envelopeMagic {
		return nil, records.ErrEnvelopeFormat
	}
	if blob[4] != Version {
		return nil, fmt.Errorf("%w: %d", records.ErrEnvelopeVersion, blob[4])
	}
	if BlobKind(blob[5]) != kind {
		return nil, records.ErrTampered
	}
	aead, err := k.aead(kind)
	if err != nil {
		return nil, err
	}
	var adBuf [128]byte
	ad := k.additionalData(adBuf[:0], blob[:headerLen], name)
	pt, err := aead.Open(nil, blob[headerLen:headerLen+nonceLen], blob[headerLen+nonceLen:], ad)
	if err != nil {
		return nil, records.ErrTampered
	}
	return pt, nil
}

// MAC authenticates data (such as the vault header's public fields) with
// HMAC-SHA256 under its own derived key, bound to the vault id.
func (k *Keys) MAC(data []byte) []byte {
	m := hmac.New(sha256.New, k.headerMAC)
	m.Write(k.additionalData(nil, []byte("AVH1"), ""))
	m.Write(data)
	return m.Sum(nil)
}

// CheckMAC reports whether mac is MAC(data).
func (k *Keys) CheckMAC(data, mac []byte) bool {
	return hmac.Equal(k.MAC(data), mac)
}

// Format implements fmt.Formatter: Keys never print.
func (Keys) Format(f fmt.State, _ rune) {
	_, _ = f.Write([]byte("envelope.Keys{" + records.Redacted + "}"))
}
