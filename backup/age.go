package backup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// Encrypt writes plaintext to w as an armored age file encrypted to
// recipients: what `age -d` decrypts with a matching identity or the
// passphrase.
func Encrypt(w io.Writer, plaintext []byte, recipients []age.Recipient) error {
	aw := armor.NewWriter(w)
	ew, err := age.Encrypt(aw, recipients...)
	if err != nil {
		return err
	}
	if _, err := ew.Write(plaintext); err != nil {
		return err
	}
	if err := ew.Close(); err != nil {
		return err
	}
	return aw.Close()
}

// Decrypt decrypts an age file, armored or not, with the first identity
// that matches, and returns its plaintext (at most MaxSize bytes). Truncation and tampering are errors: age authenticates every
// chunk and the end of the file.
func Decrypt(r io.Reader, identities ...age.Identity) ([]byte, error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	head, _ := br.Peek(len(armor.Header) + 64)
	if bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte(armor.Header)) {
		src = armor.NewReader(br)
	}
	dr, err := age.Decrypt(src, identities...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			if slices.Contains(nm.StanzaTypes, "scrypt") {
				return nil, errors.New("incorrect passphrase")
			}
			return nil, fmt.Errorf("no identity given opens it (it is encrypted to: %s): pass the matching identity file with -i", strings.Join(slices.Compact(slices.Sorted(slices.Values(nm.StanzaTypes))), ", "))
		}
		// age's header errors may quote the start of the input, which
		// is not a backup and might be a secret: say what, not where.
		switch msg := err.Error(); {
		case strings.Contains(msg, "unexpected intro"):
			return nil, errors.New("not an age-encrypted file (a backup starts with " + armor.Header + ")")
		case strings.HasPrefix(msg, "failed to read header"), strings.HasPrefix(msg, "failed to read nonce"):
			return nil, errors.New("the age header is damaged, or the file is truncated")
		}
		return nil, err // an identity's own error, such as no passphrase
	}
	data, err := io.ReadAll(io.LimitReader(dr, MaxSize+1))
	if err != nil {
		clear(data)
		return nil, fmt.Errorf("decrypting: the file is truncated or was modified: %w", err)
	}
	if len(data) > MaxSize {
		clear(data)
		return nil, fmt.Errorf("the backup is larger than %d MiB", MaxSize>>20)
	}
	return data, nil
}
