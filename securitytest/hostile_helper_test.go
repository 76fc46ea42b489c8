//go:build unix

package securitytest

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/authvault/authvault/keysource"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// helperKilledWriter writes until it is killed: a record update, then a
// state update, again and again. Its clock runs two minutes ahead, as if
// each writer started two minutes after the one before it: the debris a
// killed predecessor left is then old enough for a commit to collect.
// It says "ready" once the vault is open.
func helperKilledWriter(ctx context.Context) error {
	v, err := helperVault(ctx, vault.WithClock(func() time.Time { return time.Now().Add(2 * time.Minute) }))
	if err != nil {
		return err
	}
	defer v.Close()
	fmt.Println("ready")
	for i := 0; ; i++ {
		if _, err := v.Update(ctx, idAPI, func(r *records.Record) error {
			if r.Meta == nil {
				r.Meta = map[string]string{}
			}
			r.Meta["n"] = strconv.Itoa(i)
			return nil
		}); err != nil {
			return err
		}
		if _, err := v.UpdateState(ctx, "canary-state", func([]byte) ([]byte, error) { return []byte(strconv.Itoa(i)), nil }); err != nil {
			return err
		}
	}
}

// helperPut puts a new record, as a fresh process would.
func helperPut(ctx context.Context) error {
	v, err := helperVault(ctx)
	if err != nil {
		return err
	}
	defer v.Close()
	_, err = v.Put(ctx, &records.Record{Provider: "openai", Namespace: "default", Label: "fresh-" + os.Getenv(envArg),
		Kind: records.KindAPI, API: &records.APIKey{Key: "fresh-key"}})
	return err
}

// helperPeakRSS opens the vault and, with $AUTHVAULT_SECURITYTEST_ARG
// "record", reads the API record and verifies the vault. It prints its
// peak resident set size before and after, in KiB, and the errors.
func helperPeakRSS(ctx context.Context) error {
	before := peakRSS()
	ids, err := (&keysource.Env{}).Identities(ctx)
	if err != nil {
		return err
	}
	var errs []error
	_, err = vault.ReadID(os.Getenv(envDir))
	errs = append(errs, err)
	v, err := vault.Open(ctx, os.Getenv(envDir), ids)
	errs = append(errs, err)
	if err == nil {
		_, err = v.Get(ctx, idAPI)
		errs = append(errs, err)
		_, err = v.Verify(ctx)
		errs = append(errs, err)
		v.Close()
	}
	fmt.Println(before, peakRSS())
	for _, err := range errs {
		fmt.Println(err)
	}
	return nil
}

// peakRSS is the process's peak resident set size in KiB.
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss) >> 10 // bytes there
	}
	return int64(ru.Maxrss)
}
