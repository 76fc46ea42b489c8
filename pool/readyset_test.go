package pool

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestReadySet checks the two-level bit set against a plain slice of
// booleans, for sizes around the word and summary boundaries.
func TestReadySet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 63, 64, 65, 127, 4095, 4096, 4097, 10000} {
		var r readySet
		r.reset(n)
		model := make([]bool, n)
		check := func(step int) {
			for _, i := range []int{-1, 0, 1, 62, 63, 64, 65, n / 2, n - 2, n - 1, n, n + 1, rng.IntN(n + 1)} {
				want := -1
				for j := max(i, 0); j < n; j++ {
					if model[j] {
						want = j
						break
					}
				}
				if got := r.next(i); got != want {
					t.Fatalf("n=%d step %d: next(%d) = %d, want %d", n, step, i, got, want)
				}
				if i >= 0 && i < n && r.has(i) != model[i] {
					t.Fatalf("n=%d step %d: has(%d) = %v", n, step, i, r.has(i))
				}
			}
		}
		check(-1)
		for step := range 2000 {
			if n == 0 {
				break
			}
			i := rng.IntN(n)
			// Sparse sets are the interesting ones: mostly clear.
			if rng.IntN(4) == 0 {
				r.set(i)
				model[i] = true
			} else {
				r.clear(i)
				model[i] = false
			}
			check(step)
		}
		r.reset(n)
		for i := range model {
			model[i] = false
		}
		check(-2)
	}
}

func TestBackoffDelay(t *testing.T) {
	b := backoff{base: time.Second, max: 30 * time.Minute}
	tests := []struct {
		step int
		want time.Duration
	}{
		{0, time.Second}, {1, time.Second}, {2, 2 * time.Second}, {11, 1024 * time.Second},
		{12, 30 * time.Minute}, {64, 30 * time.Minute}, {1 << 30, 30 * time.Minute},
	}
	for _, tt := range tests {
		if got := b.delay(tt.step); got != tt.want {
			t.Errorf("delay(%d) = %v, want %v", tt.step, got, tt.want)
		}
	}
	huge := backoff{base: time.Duration(1) << 61, max: time.Duration(1<<63 - 1)}
	if got := huge.delay(5); got != huge.max {
		t.Errorf("overflowing delay = %v, want the cap", got)
	}
}

func TestReorderOpMerges(t *testing.T) {
	tests := []struct {
		name  string
		disk  []string
		want  []string
		order []string
	}{
		{"same accounts", []string{"a", "b", "c"}, []string{"c", "a", "b"}, []string{"c", "a", "b"}},
		// Another process appended d; our reorder of a, b, c keeps it.
		{"keeps an account added elsewhere", []string{"a", "b", "c", "d"}, []string{"c", "a", "b"}, []string{"c", "a", "b", "d"}},
		{"keeps an account added in between", []string{"a", "x", "b", "c"}, []string{"c", "b", "a"}, []string{"c", "x", "b", "a"}},
		// Another process dropped b.
		{"ignores an account gone elsewhere", []string{"a", "c"}, []string{"c", "b", "a"}, []string{"c", "a"}},
		{"a label named twice counts once", []string{"a", "b"}, []string{"b", "b", "a"}, []string{"b", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newState()
			for _, l := range tt.disk {
				s.Order = append(s.Order, l)
				s.Accounts[l] = &acctState{}
			}
			reorderOp(tt.want)(s)
			if got := s.Order; !equal(got, tt.order) {
				t.Errorf("order %v, want %v", got, tt.order)
			}
			if err := s.validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestStateRoundTrip: what encode writes, decodeState reads back equal.
func TestStateRoundTrip(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	s := newState()
	membershipOp([]string{"b", "a"}, nil, now, now)(s)
	applyOutcome(s.Accounts["b"], Outcome{Kind: QuotaExhausted, Reason: "insufficient_quota", Status: 429, Model: "m"}, "m", 0, now, &config{quota: backoff{time.Hour, time.Hour}})
	s.Accounts["a"].Disabled, s.Accounts["a"].DisabledReason = true, "spare"
	s.Accounts["a"].Stats.count(Outcome{Kind: Fatal, Status: 400}, now)
	b, err := s.encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeState(b)
	if err != nil {
		t.Fatalf("decodeState(%s): %v", b, err)
	}
	b2, err := got.encode()
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(b2) {
		t.Errorf("round trip changed the encoding:\n%s\n%s", b, b2)
	}
}

// BenchmarkReadySetNext finds the one ready position after 10000 cooling
// ones: the summary level makes it a handful of word operations.
func BenchmarkReadySetNext(b *testing.B) {
	var r readySet
	r.reset(10001)
	r.set(10000)
	for b.Loop() {
		if r.next(0) != 10000 {
			b.Fatal("wrong position")
		}
	}
}
