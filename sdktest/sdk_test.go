package sdktest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"filippo.io/age"
	"github.com/anthropics/anthropic-sdk-go/v2"
	anthropicoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	openaioption "github.com/openai/openai-go/v3/option"

	"github.com/authvault/authvault"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// newClient creates a vault holding two API-key accounts of provider and
// returns an authvault client for them that may send their credentials to
// origin, the emulated provider on loopback, as well as to the provider's
// own.
func newClient(t *testing.T, provider, origin string) *authvault.Client {
	t.Helper()
	ctx := context.Background()
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "vault")
	v, err := vault.Create(ctx, dir, []age.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"first", "second"} {
		if _, err := v.Put(ctx, &records.Record{Provider: provider, Namespace: "default", Label: l,
			Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret("key-" + l)}}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { v.Close() })
	c, err := authvault.Open(ctx, provider, authvault.WithVault(v), authvault.WithOrigins(origin))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// upstream counts requests by credential and lets the test decide each
// answer.
type upstream struct {
	mu   sync.Mutex
	seen []string
}

func (u *upstream) record(cred string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.seen = append(u.seen, cred)
	return len(u.seen)
}

func TestAnthropicSDKRotatesWithoutItsOwnRetry(t *testing.T) {
	u := &upstream{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		u.record(r.Header.Get("X-Api-Key"))
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("X-Api-Key") == "key-first" {
			// Anthropic's documented 429.
			w.Header().Set("Retry-After", "30")
			w.Header().Set("Anthropic-Ratelimit-Requests-Remaining", "0")
			w.WriteHeader(429)
			io.WriteString(w, `{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit."}}`)
			return
		}
		if r.Header.Get("Anthropic-Version") == "" || r.URL.Path != "/v1/messages" {
			w.WriteHeader(400)
			io.WriteString(w, `{"type":"error","error":{"type":"invalid_request_error","message":"bad request"}}`)
			return
		}
		io.WriteString(w, `{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Hello from the second account"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":6}}`)
	}))
	defer srv.Close()
	c := newClient(t, "anthropic", srv.URL)
	client := anthropic.NewClient(
		anthropicoption.WithHTTPClient(c.HTTP),
		anthropicoption.WithBaseURL(srv.URL),
		anthropicoption.WithAPIKey(authvault.PlaceholderKey),
	)
	msg, err := client.Messages.New(context.Background(), anthropic.MessageNewParams{
		Model:     "claude-sonnet-4-5",
		MaxTokens: 64,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hi"))},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Content) != 1 || msg.Content[0].Text != "Hello from the second account" {
		t.Fatalf("message %+v", msg.Content)
	}
	if fmt.Sprint(u.seen) != "[key-first key-second]" {
		t.Fatalf("upstream saw %v: want exactly one request per account, and no SDK retry", u.seen)
	}
}

func TestOpenAISDKRotatesWithoutItsOwnRetry(t *testing.T) {
	u := &upstream{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		auth := r.Header.Get("Authorization")
		u.record(auth)
		w.Header().Set("Content-Type", "application/json")
		if auth == "Bearer key-first" {
			// OpenAI's documented 429 with its rate-limit headers.
			w.Header().Set("X-Ratelimit-Limit-Requests", "60")
			w.Header().Set("X-Ratelimit-Remaining-Requests", "0")
			w.Header().Set("X-Ratelimit-Reset-Requests", "6m0s")
			w.WriteHeader(429)
			io.WriteString(w, `{"error":{"message":"Rate limit reached for gpt-4o in organization org-x on requests per min (RPM): Limit 60, Used 60, Requested 1.","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
			return
		}
		io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the second account"},"finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":1,"completion_tokens":5,"total_tokens":6}}`)
	}))
	defer srv.Close()
	c := newClient(t, "openai", srv.URL)
	client := openai.NewClient(
		openaioption.WithHTTPClient(c.HTTP),
		openaioption.WithBaseURL(srv.URL+"/v1/"),
		openaioption.WithAPIKey("unused-the-vault-supplies-the-key"),
	)
	resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "Hello from the second account" {
		t.Fatalf("response %+v", resp.Choices)
	}
	if fmt.Sprint(u.seen) != "[Bearer key-first Bearer key-second]" {
		t.Fatalf("upstream saw %v: want exactly one request per account, and no SDK retry", u.seen)
	}
	// The first account cools for the 6 minutes the header says.
	a, err := c.Pool.Accounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a[0].Availability.String() != "cooling" {
		t.Fatalf("first account is %v", a[0].Availability)
	}
}
