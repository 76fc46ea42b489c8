package pool

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fullState has every field of the persisted state set, with times that
// carry a monotonic reading as p.now() gives them.
func fullState() *state {
	now := time.Now()
	return &state{
		V:     stateVersion,
		Order: []string{"a", "b"},
		Accounts: map[string]*acctState{
			"a": {
				Added: now, Disabled: true, DisabledReason: "spare", NeedsReauth: true, ReauthReason: "invalid_grant",
				Windows: 3, Unreadable: "tampered", UnreadableUntil: now.Add(time.Minute),
				Cooldowns: map[string]*cooldown{
					"":      {Kind: RateLimited, Until: now.Add(time.Minute), Step: 2, Window: 3, Reason: "rate_limit_exceeded", Status: 429},
					"m-big": {Kind: QuotaExhausted, Until: now.Add(time.Hour), Step: 1, Window: 2, Reason: "insufficient_quota", Status: 429},
				},
				Stats: Stats{Requests: 9, Successes: 1, RateLimited: 2, QuotaExhausted: 3, AuthFailures: 1, Overloaded: 1, Errors: 1,
					Refreshes: 1, RefreshFailures: 1, LastUsed: now, LastReport: now.Add(time.Second), LastStatus: 429, LastOutcome: RateLimited},
			},
			"b": {Added: now, Cooldowns: map[string]*cooldown{}},
		},
	}
}

// zeroFields lists the fields of v, through structs, pointers and map
// values, that hold their zero value.
func zeroFields(path string, v reflect.Value) []string {
	if v.Type() == reflect.TypeFor[time.Time]() {
		if v.Interface().(time.Time).IsZero() {
			return []string{path}
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return []string{path}
		}
		return zeroFields(path, v.Elem())
	case reflect.Struct:
		var out []string
		for i := range v.NumField() {
			out = append(out, zeroFields(path+"."+v.Type().Field(i).Name, v.Field(i))...)
		}
		return out
	case reflect.Map:
		if v.Len() == 0 {
			return []string{path}
		}
		var out []string
		for _, k := range v.MapKeys() {
			out = append(out, zeroFields(path+"["+k.String()+"]", v.MapIndex(k))...)
		}
		return out
	}
	if v.IsZero() {
		return []string{path}
	}
	return nil
}

// TestStateClone: the copy a pool keeps of the state it wrote, in place
// of decoding that state again, is what decoding gives, and shares
// nothing with the state it was taken from.
func TestStateClone(t *testing.T) {
	s := fullState()
	// Every field is set on account "a", so a field added to the state
	// and forgotten by clone shows here.
	if zero := zeroFields("a", reflect.ValueOf(s.Accounts["a"])); len(zero) > 0 {
		t.Fatalf("fullState leaves fields unset, set them: %v", zero)
	}
	b, err := s.encode()
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := decodeState(b)
	if err != nil {
		t.Fatal(err)
	}
	c := s.clone()
	// Times compare as instants, and must have no monotonic reading, as
	// decoded ones have none: with one, Before and After would use it.
	opt := cmp.Comparer(func(x, y time.Time) bool { return x.Equal(y) && x.Round(0) == x && y.Round(0) == y })
	if diff := cmp.Diff(decoded, c, cmp.AllowUnexported(state{}), opt); diff != "" {
		t.Errorf("clone differs from decode(encode) (-decoded +clone):\n%s", diff)
	}
	if cb, _ := c.encode(); string(cb) != string(b) {
		t.Errorf("clone encodes as\n%s\nwant\n%s", cb, b)
	}

	// Change every level of the clone: the original does not move.
	c.Order[0] = "x"
	c.Accounts["a"].Stats.Requests++
	c.Accounts["a"].Cooldowns[""].Step++
	c.Accounts["a"].Cooldowns["new"] = &cooldown{}
	delete(c.Accounts, "b")
	if cb, _ := s.encode(); string(cb) != string(b) {
		t.Errorf("changing the clone changed the original:\n%s\nwant\n%s", cb, b)
	}
}
