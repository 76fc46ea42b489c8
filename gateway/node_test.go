package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/records"
)

// nodeModulesEnv names the node_modules directory holding the official
// TypeScript SDKs (.ci/run installs them there with npm).
const nodeModulesEnv = "AUTHVAULT_TEST_NODE_MODULES"

// nodeSDKs returns the node command and the SDKs' node_modules, or skips
// the test saying what to install (fails instead under CI=true).
func nodeSDKs(t *testing.T) (string, string) {
	t.Helper()
	skip := t.Skipf
	if os.Getenv("CI") == "true" {
		skip = t.Fatalf
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("node is not installed (apt-get install nodejs npm)")
	}
	mods := os.Getenv(nodeModulesEnv)
	if mods == "" {
		skip("%s is not set: npm install @anthropic-ai/sdk@1.10.0 openai@7.55.0 in a directory and set it to its node_modules", nodeModulesEnv)
	}
	for _, p := range []string{"@anthropic-ai/sdk", "openai"} {
		if _, err := os.Stat(filepath.Join(mods, p)); err != nil {
			skip("%s: %v", nodeModulesEnv, err)
		}
	}
	return node, mods
}

// bothProviders answers as Anthropic and OpenAI do, by path: 429 to an
// account key ending in -first, a message (streamed when asked) to the
// others.
func bothProviders(w http.ResponseWriter, r *http.Request, _ int) {
	key := r.Header.Get("X-Api-Key") + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	b, _ := io.ReadAll(r.Body)
	stream := strings.Contains(string(b), `"stream":true`)
	anthropicPath := r.URL.Path == "/v1/messages"
	if strings.HasSuffix(key, "-first") {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(429)
		if anthropicPath {
			io.WriteString(w, anthropic429)
		} else {
			io.WriteString(w, `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
		}
		return
	}
	sse := func(events ...string) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range events {
			io.WriteString(w, ev+"\n\n")
			w.(http.Flusher).Flush()
		}
	}
	switch {
	case anthropicPath && stream:
		sse(`event: message_start`+"\n"+`data: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":9,"output_tokens":1}}}`,
			`event: content_block_start`+"\n"+`data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
			`event: content_block_delta`+"\n"+`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"streamed "}}`,
			`event: content_block_delta`+"\n"+`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"from second"}}`,
			`event: content_block_stop`+"\n"+`data: {"type":"content_block_stop","index":0}`,
			`event: message_delta`+"\n"+`data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":6}}`,
			`event: message_stop`+"\n"+`data: {"type":"message_stop"}`)
	case anthropicPath:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"from second"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":9,"output_tokens":6}}`)
	case r.URL.Path != "/v1/chat/completions":
		w.WriteHeader(404)
	case stream:
		sse(`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"streamed "},"finish_reason":null}]}`,
			`data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"from second"},"finish_reason":"stop"}]}`,
			`data: [DONE]`)
	default:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"from second"},"finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":9,"completion_tokens":6,"total_tokens":15}}`)
	}
}

// TestTypeScriptSDKsThroughGateway: the official TypeScript SDKs, run by
// node, plain and streaming: each call meets a 429 on the first account
// and succeeds on the second within the same call, with no SDK retry.
func TestTypeScriptSDKsThroughGateway(t *testing.T) {
	node, mods := nodeSDKs(t)
	up := newUpstream(t, bothProviders)
	v, _, _ := newTestVault(t)
	// One pool per call, so that each call meets its own 429.
	for _, p := range []struct{ provider, base string }{{"anthropic", up.URL}, {"openai", up.URL + "/v1"}} {
		for _, ns := range []string{"plain", "stream"} {
			for _, l := range []string{"first", "second"} {
				rec := &records.Record{Provider: p.provider, Namespace: ns, Label: l, Kind: records.KindAPI,
					API:  &records.APIKey{Key: records.Secret(fmt.Sprintf("%s-%s-%s", p.provider, ns, l))},
					Meta: map[string]string{adapters.MetaBaseURL: p.base}}
				if _, err := v.Put(context.Background(), rec); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	e := newGateway(t, v)
	script, err := filepath.Abs("testdata/sdks.cjs")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "NODE_PATH=" + mods,
		"GATEWAY_URL=" + e.srv.URL, "GATEWAY_TOKEN=" + e.token}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s\nupstream saw %v", err, stderr.String(), up.keys())
	}
	var got map[string]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node printed %q: %v", out, err)
	}
	want := map[string]string{"anthropic": "from second", "anthropicStream": "streamed from second",
		"openai": "from second", "openaiStream": "streamed from second"}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
	// Per call: exactly one request per account, first then second.
	byPool := map[string][]string{}
	for _, k := range up.keys() {
		i := strings.LastIndex(k, "-")
		byPool[k[:i]] = append(byPool[k[:i]], k[i+1:])
	}
	for _, pool := range []string{"anthropic-plain", "anthropic-stream", "openai-plain", "openai-stream"} {
		if fmt.Sprint(byPool[pool]) != "[first second]" {
			t.Errorf("%s: upstream saw %v, want [first second] (no SDK retry)", pool, byPool[pool])
		}
	}
}
