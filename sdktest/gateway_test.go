package sdktest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/anthropics/anthropic-sdk-go/v2"
	anthropicoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	openaioption "github.com/openai/openai-go/v3/option"

	"github.com/authvault/authvault/gateway"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/usage"
	"github.com/authvault/authvault/vault"
)

// fakeProvider answers 429 to the first account's key and serves the
// second, streaming when the request asks for it. It counts requests.
type fakeProvider struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func (f *fakeProvider) creds() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

func newFakeProvider(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, cred string, stream bool)) *fakeProvider {
	f := &fakeProvider{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		cred := r.Header.Get("X-Api-Key")
		if cred == "" {
			cred = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
		f.mu.Lock()
		f.seen = append(f.seen, cred)
		f.mu.Unlock()
		answer(w, r, cred, strings.Contains(string(b), `"stream":true`))
	}))
	t.Cleanup(f.Close)
	return f
}

// gatewayFor serves two accounts of provider ("key-first", "key-second",
// both at base) through a gateway, and returns its base URL for the
// provider, a client token, the gateway and the vault.
func gatewayFor(t *testing.T, provider, base string) (string, string, *gateway.Gateway, *vault.Vault) {
	t.Helper()
	ctx := context.Background()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Create(ctx, filepath.Join(t.TempDir(), "vault"), []age.Recipient{id.Recipient()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	for _, l := range []string{"first", "second"} {
		if _, err := v.Put(ctx, &records.Record{Provider: provider, Namespace: "default", Label: l,
			Kind: records.KindAPI, API: &records.APIKey{Key: records.Secret("key-" + l)},
			Meta: map[string]string{"base_url": base}}); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := gateway.AddClient(ctx, v, "sdk")
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(ctx, v, gateway.WithFlushInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(func() {
		srv.Close()
		g.Close()
	})
	return srv.URL + "/" + provider, tok, g, v
}

func anthropicAnswer(w http.ResponseWriter, r *http.Request, cred string, stream bool) {
	if cred == "key-first" {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(429)
		io.WriteString(w, `{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit."}}`)
		return
	}
	if r.URL.Path != "/v1/messages" {
		w.WriteHeader(404)
		return
	}
	if stream {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range []string{
			`event: message_start` + "\n" + `data: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":9,"output_tokens":1}}}`,
			`event: content_block_start` + "\n" + `data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
			`event: content_block_delta` + "\n" + `data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello from "}}`,
			`event: content_block_delta` + "\n" + `data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"the second account"}}`,
			`event: content_block_stop` + "\n" + `data: {"type":"content_block_stop","index":0}`,
			`event: message_delta` + "\n" + `data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":6}}`,
			`event: message_stop` + "\n" + `data: {"type":"message_stop"}`,
		} {
			io.WriteString(w, ev+"\n\n")
			w.(http.Flusher).Flush()
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Hello from the second account"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":9,"output_tokens":6}}`)
}

func openaiAnswer(w http.ResponseWriter, r *http.Request, cred string, stream bool) {
	if cred == "key-first" {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Ratelimit-Remaining-Requests", "0")
		w.Header().Set("X-Ratelimit-Reset-Requests", "6m0s")
		w.WriteHeader(429)
		io.WriteString(w, `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
		return
	}
	if r.URL.Path != "/v1/chat/completions" {
		w.WriteHeader(404)
		return
	}
	if stream {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range []string{
			`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello from "},"finish_reason":null}]}`,
			`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"the second account"},"finish_reason":"stop"}]}`,
			`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":6,"total_tokens":15}}`,
			`[DONE]`,
		} {
			io.WriteString(w, "data: "+ev+"\n\n")
			w.(http.Flusher).Flush()
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the second account"},"finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":9,"completion_tokens":6,"total_tokens":15}}`)
}

// checkGatewayCall checks one SDK call's trace: one request per account
// (no SDK retry), and the usage the gateway counted from the upstream's
// usage fields: 9 input and 6 output tokens on the second account.
func checkGatewayCall(t *testing.T, up *fakeProvider, g *gateway.Gateway, v *vault.Vault, provider string) {
	t.Helper()
	if got := fmt.Sprint(up.creds()); got != "[key-first key-second]" {
		t.Fatalf("upstream saw %s: want exactly one request per account, and no SDK retry", got)
	}
	// The gateway counts an exchange once its handler returns, which may
	// be just after the client read the end of the answer.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := g.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		u, err := usage.Read(context.Background(), v)
		if err != nil {
			t.Fatal(err)
		}
		if a := u.Accounts[provider+"/default/second"]; a != nil {
			if a.Requests != 1 || a.InputTokens != 9 || a.OutputTokens != 6 || u.Clients["sdk"].Requests != 1 {
				t.Fatalf("usage: account %+v, client %+v", a, u.Clients["sdk"])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no usage counted")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAnthropicSDKThroughGateway(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			up := newFakeProvider(t, anthropicAnswer)
			base, tok, g, v := gatewayFor(t, "anthropic", up.URL)
			client := anthropic.NewClient(anthropicoption.WithBaseURL(base), anthropicoption.WithAPIKey(tok))
			params := anthropic.MessageNewParams{
				Model:     "claude-sonnet-4-5",
				MaxTokens: 64,
				Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hi"))},
			}
			var text string
			if stream {
				s := client.Messages.NewStreaming(context.Background(), params)
				var msg anthropic.Message
				for s.Next() {
					if err := msg.Accumulate(s.Current()); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.Err(); err != nil {
					t.Fatal(err)
				}
				text = msg.Content[0].Text
			} else {
				msg, err := client.Messages.New(context.Background(), params)
				if err != nil {
					t.Fatal(err)
				}
				text = msg.Content[0].Text
			}
			if text != "Hello from the second account" {
				t.Fatalf("text %q", text)
			}
			checkGatewayCall(t, up, g, v, "anthropic")
		})
	}
}

func TestOpenAISDKThroughGateway(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			up := newFakeProvider(t, openaiAnswer)
			base, tok, g, v := gatewayFor(t, "openai", up.URL+"/v1")
			client := openai.NewClient(openaioption.WithBaseURL(base+"/v1/"), openaioption.WithAPIKey(tok))
			params := openai.ChatCompletionNewParams{
				Model:    "gpt-4o",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")},
			}
			var text string
			if stream {
				params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
				s := client.Chat.Completions.NewStreaming(context.Background(), params)
				for s.Next() {
					if c := s.Current(); len(c.Choices) > 0 {
						text += c.Choices[0].Delta.Content
					}
				}
				if err := s.Err(); err != nil {
					t.Fatal(err)
				}
			} else {
				resp, err := client.Chat.Completions.New(context.Background(), params)
				if err != nil {
					t.Fatal(err)
				}
				text = resp.Choices[0].Message.Content
			}
			if text != "Hello from the second account" {
				t.Fatalf("text %q", text)
			}
			checkGatewayCall(t, up, g, v, "openai")
		})
	}
}
