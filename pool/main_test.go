package pool_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The pool starts no goroutine; make sure it stays that way.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
