package transport

import (
	"encoding/json"
	"net/http"
	"strings"
)

// JSONModel returns the top-level "model" field of a JSON request body
// (OpenAI, Anthropic, and most compatible APIs), or, for Google's
// ".../models/NAME:generateContent" paths, the model in the URL. For use
// with WithModel.
func JSONModel(req *http.Request, body []byte) string {
	if i := strings.Index(req.URL.Path, "/models/"); i >= 0 {
		m := req.URL.Path[i+len("/models/"):]
		if j := strings.IndexAny(m, ":/"); j >= 0 {
			m = m[:j]
		}
		if m != "" {
			return m
		}
	}
	if len(body) == 0 || body[0] != '{' {
		return ""
	}
	var v struct {
		Model string `json:"model"`
	}
	if json.Unmarshal(body, &v) != nil || len(v.Model) > 200 {
		return ""
	}
	return v.Model
}
