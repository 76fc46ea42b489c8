package provider_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/authvault/authvault/adapters/anthropic"
	"github.com/authvault/authvault/adapters/provider"
)

func ExampleClassifier() {
	// An OpenAI-compatible API that is out of credit.
	resp := &http.Response{
		StatusCode: http.StatusTooManyRequests,
		Header:     http.Header{"Retry-After": {"30"}},
		Body:       io.NopCloser(strings.NewReader(`{"error":{"code":"insufficient_quota","type":"insufficient_quota"}}`)),
	}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	o := provider.Classifier{}.Classify(resp, now)
	fmt.Println(o.Kind, o.Reason, o.Until.Sub(now))
	// The body is still there for the caller.
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(len(body) > 0)
	// Output:
	// quota-exhausted insufficient_quota 30s
	// true
}

func ExampleAPIKeyRecord() {
	rec := provider.APIKeyRecord(anthropic.ProviderID, "work", "sk-ant-api03-example")
	fmt.Println(rec.ID(), rec.Kind)
	// Output: anthropic/default/work api
}

func ExampleLoginError() {
	// Whatever the provider, a login's refusal is matched the same way.
	var err error = &provider.LoginError{Provider: "qwen", Step: "token poll", Status: 400, Code: "access_denied", Err: provider.ErrAccessDenied}
	var le *provider.LoginError
	fmt.Println(errors.Is(err, provider.ErrAccessDenied), errors.As(err, &le) && le.Step == "token poll")
	// Output: true true
}
