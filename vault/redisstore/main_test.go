package redisstore_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"
	"go.uber.org/goleak"
)

// TestMain silences go-redis's own logging (a line per failed dial),
// which the tests that stop a server would otherwise flood the output
// with; programs choose for themselves with redis.SetLogger. It fails
// the package when a goroutine outlives the tests: a lock renewal never
// stopped, a connection never closed.
func TestMain(m *testing.M) {
	redis.SetLogger(&logging.VoidLogger{})
	code := m.Run()
	if code == 0 {
		var err error
		for i := 0; i < 150; i++ { // connections and dial probes end asynchronously
			if err = goleak.Find(); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
