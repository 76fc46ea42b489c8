package gateway

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads /metrics with the Prometheus text parser.
func (e *gatewayEnv) scrape() map[string]*dto.MetricFamily {
	e.t.Helper()
	resp := e.do("GET", "/metrics", "", http.Header{"Authorization": {"Bearer " + e.token}})
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		e.t.Fatalf("/metrics: status %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		e.t.Fatalf("/metrics does not parse: %v", err)
	}
	return mfs
}

// value sums the samples of family whose labels include want.
func value(mfs map[string]*dto.MetricFamily, family string, want map[string]string) float64 {
	mf := mfs[family]
	if mf == nil {
		return 0
	}
	sum := 0.0
next:
	for _, m := range mf.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

func TestMetricsCountWhatHappened(t *testing.T) {
	up := newUpstream(t, rateLimitFirst)
	v, _, _ := newTestVault(t)
	addKeys(t, v, "anthropic", up.URL, "first", "second")
	e := newGateway(t, v)
	for i := 0; i < 3; i++ {
		resp := e.do("POST", "/anthropic/v1/messages", `{}`, nil)
		readBody(t, resp)
	}
	resp := e.do("POST", "/anthropic/v1/messages", `{}`, http.Header{"X-Api-Key": {"wrong"}})
	readBody(t, resp)

	// An exchange is counted when its handler returns, just after the
	// client has read the answer.
	waitFor(t, func() bool {
		return value(e.scrape(), "authvault_gateway_requests_total", map[string]string{"provider": "anthropic"}) == 4
	})
	mfs := e.scrape()
	checks := []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"authvault_gateway_requests_total", map[string]string{"provider": "anthropic", "account": "second", "client": "laptop", "status": "200"}, 3},
		{"authvault_gateway_requests_total", map[string]string{"provider": "anthropic", "client": "", "status": "401"}, 1},
		{"authvault_gateway_tokens_total", map[string]string{"account": "second", "direction": "input"}, 33},
		{"authvault_gateway_tokens_total", map[string]string{"account": "second", "direction": "output"}, 21},
		{"authvault_gateway_rotations_total", map[string]string{"provider": "anthropic"}, 1},
		{"authvault_gateway_cooldown_seconds_total", map[string]string{"account": "first"}, 30},
		{"authvault_gateway_upstream_latency_seconds", map[string]string{"provider": "anthropic"}, 4},
	}
	for _, c := range checks {
		// Cooldowns are measured from the event's time: round.
		if got := value(mfs, c.family, c.labels); math.Round(got) != c.want {
			t.Errorf("%s%v = %v, want %v", c.family, c.labels, got, c.want)
		}
	}
	// /metrics needs a token.
	resp = e.do("GET", "/metrics", "", http.Header{})
	readBody(t, resp)
	if resp.StatusCode != 401 {
		t.Errorf("/metrics without a token: %d", resp.StatusCode)
	}
}

func TestHealthAndReady(t *testing.T) {
	up := newUpstream(t, rateLimitFirst)
	v, _, _ := newTestVault(t)
	addKeys(t, v, "anthropic", up.URL, "first")
	e := newGateway(t, v)
	resp := e.do("GET", "/healthz", "", http.Header{})
	if body := readBody(t, resp); resp.StatusCode != 200 || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", resp.StatusCode, body)
	}
	ready := func() (int, readiness) {
		resp := e.do("GET", "/readyz", "", http.Header{})
		var rd readiness
		if err := json.Unmarshal([]byte(readBody(t, resp)), &rd); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, rd
	}
	if code, rd := ready(); code != 200 || rd.Pools["anthropic/default"] != 1 {
		t.Fatalf("/readyz: %d %+v", code, rd)
	}
	// The only account is rate limited: not ready.
	resp = e.do("POST", "/anthropic/v1/messages", `{}`, nil)
	readBody(t, resp)
	if code, rd := ready(); code != 503 || rd.Ready || rd.Pools["anthropic/default"] != 0 {
		t.Fatalf("/readyz with every account cooling: %d %+v", code, rd)
	}
	if strings.Contains(e.logs.String(), "key-first") {
		t.Fatal("key in log")
	}
}
