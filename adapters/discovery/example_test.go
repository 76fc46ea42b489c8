package discovery_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/authvault/authvault/adapters/discovery"
)

func ExampleModels() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"list-1"`)
		io.WriteString(w, `{"object":"list","data":[{"id":"model-a"},{"id":"model-b"}]}`)
	}))
	defer srv.Close()

	cache := &discovery.MemoryCache{}
	for range 2 { // the second call is served from the cache
		models, err := discovery.Models(context.Background(), srv.Client(), srv.URL+"/v1", discovery.WithCache(cache))
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, m := range models {
			fmt.Println(m.ID)
		}
	}
	// Output:
	// model-a
	// model-b
	// model-a
	// model-b
}
