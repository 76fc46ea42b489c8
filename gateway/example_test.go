package gateway_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/authvault/authvault/gateway"
	"github.com/authvault/authvault/records"
	"github.com/authvault/authvault/vault"
)

// A gateway in front of one Anthropic account, used the way any tool
// uses it: its base URL is http://ADDR/anthropic and its API key a
// client token.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "gateway-example-")
	defer os.RemoveAll(dir)

	// A stand-in for the provider, on loopback.
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("provider: %s %s with key %s\n", r.Method, r.URL.Path, r.Header.Get("X-Api-Key"))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"type":"message","content":[{"type":"text","text":"hi"}],"usage":{"input_tokens":3,"output_tokens":1}}`)
	}))
	defer provider.Close()

	id, _ := age.GenerateX25519Identity()
	v, err := vault.Create(ctx, filepath.Join(dir, "vault"), []age.Recipient{id.Recipient()})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	v.Put(ctx, &records.Record{Provider: "anthropic", Namespace: "default", Label: "work",
		Kind: records.KindAPI, API: &records.APIKey{Key: "sk-ant-example"},
		Meta: map[string]string{"base_url": provider.URL}}) // served at the stand-in

	token, err := gateway.AddClient(ctx, v, "laptop") // shown once; the vault keeps a digest
	if err != nil {
		log.Fatal(err)
	}
	g, err := gateway.New(ctx, v)
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(g) // vaultkey serve: a loopback listener, timeouts, graceful stop
	defer func() {
		srv.Close()
		g.Close()
	}()

	req, _ := http.NewRequest("POST", srv.URL+"/anthropic/v1/messages", nil)
	req.Header.Set("x-api-key", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("client:", resp.Status)
	// Output:
	// provider: POST /v1/messages with key sk-ant-example
	// client: 200 OK
}
