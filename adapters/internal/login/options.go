package login

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/authvault/authvault/adapters/bearer"
)

// The setters below check and set what the adapters' options of the same
// names configure. A value that cannot be used is a *bearer.ConfigError
// naming the option.

// SetClientID is WithClientID.
func (d *Device) SetClientID(id string) error {
	if strings.TrimSpace(id) == "" {
		return &bearer.ConfigError{Option: "WithClientID", Reason: "empty client id"}
	}
	d.ClientID = id
	return nil
}

// SetPreset is WithPreset: the client id preset returns for name.
func (d *Device) SetPreset(preset func(name string) (string, bool), name string) error {
	id, ok := preset(name)
	if !ok {
		return &bearer.ConfigError{Option: "WithPreset", Reason: fmt.Sprintf("unknown preset %q", name)}
	}
	d.ClientID = id
	return nil
}

// SetNow is WithNow.
func (d *Device) SetNow(now func() time.Time) error {
	if now == nil {
		return &bearer.ConfigError{Option: "WithNow", Reason: "nil clock"}
	}
	d.Now = now
	return nil
}

// SetSleep is WithSleep.
func (d *Device) SetSleep(sleep func(ctx context.Context, d time.Duration) error) error {
	if sleep == nil {
		return &bearer.ConfigError{Option: "WithSleep", Reason: "nil sleep"}
	}
	d.Sleep = sleep
	return nil
}
