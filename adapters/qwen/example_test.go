package qwen_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/authvault/authvault/adapters/qwen"
	"github.com/authvault/authvault/records"
)

func ExampleLogin() {
	// A stand-in for chat.qwen.ai that approves at once, and asks to be
	// polled every 10 ms.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/device/code":
			io.WriteString(w, `{"device_code":"d","user_code":"ABCD-1234","verification_uri":"https://chat.qwen.ai/authorize","expires_in":600,"interval":0.01}`)
		case "/token":
			io.WriteString(w, `{"access_token":"a","refresh_token":"r","expires_in":3600,"resource_url":"portal.qwen.ai"}`)
		}
	}))
	defer srv.Close()

	rec, err := qwen.Login(context.Background(), srv.Client(), records.ID{Label: "me"}, os.Stdout,
		qwen.WithClientID(qwen.QwenCodeClientID), // Qwen Code's public client, chosen knowingly
		qwen.WithDeviceCodeURL(srv.URL+"/device/code"),
		qwen.WithTokenURL(srv.URL+"/token"),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rec.ID(), rec.Meta[qwen.MetaResourceURL])
	// Output:
	// To sign in to qwen, open https://chat.qwen.ai/authorize
	// and enter the code ABCD-1234
	// qwen/default/me portal.qwen.ai
}
