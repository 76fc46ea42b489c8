package gateway

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the gateway's Prometheus metrics, in a registry of its own
// (nothing global). Accounts are named by label, clients by name; no
// label ever holds a credential.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	tokens    *prometheus.CounterVec
	rotations *prometheus.CounterVec
	refreshes *prometheus.CounterVec
	cooldown  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	handler   http.Handler

	mu        sync.RWMutex
	byRequest map[requestKey]*requestCounters
}

func newMetrics() *metrics {
	m := &metrics{
		byRequest: map[requestKey]*requestCounters{},
		reg:       prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authvault_gateway_requests_total",
			Help: "Requests answered, by provider, namespace, serving account label (empty when none was reached), client and HTTP status.",
		}, []string{"provider", "namespace", "account", "client", "status"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authvault_gateway_tokens_total",
			Help: "Tokens read from the responses' usage, by provider, namespace, account label, client and direction (input, output).",
		}, []string{"provider", "namespace", "account", "client", "direction"}),
		rotations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authvault_gateway_rotations_total",
			Help: "Requests moved to the next account, by provider and reason (the failed account's status or error code).",
		}, []string{"provider", "reason"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authvault_gateway_refreshes_total",
			Help: "Token refreshes, by provider and result (refreshed, adopted from another process, failed).",
		}, []string{"provider", "result"}),
		cooldown: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authvault_gateway_cooldown_seconds_total",
			Help: "Seconds of cooldown imposed on accounts, by provider and account label.",
		}, []string{"provider", "account"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "authvault_gateway_upstream_latency_seconds",
			Help:    "Time from sending an upstream request to its response headers, by provider.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"provider"}),
	}
	m.reg.MustRegister(m.requests, m.tokens, m.rotations, m.refreshes, m.cooldown, m.latency)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// requestKey is what one line of the requests counter is kept by.
type requestKey struct {
	provider, namespace, account, client string
	status                               int
}

// requestCounters are the counters one kind of request adds to.
type requestCounters struct {
	requests, input, output prometheus.Counter
}

// counters returns the counters of k, looked up in the vectors once:
// a vector hashes every label value at each lookup.
func (m *metrics) counters(k requestKey) *requestCounters {
	m.mu.RLock()
	c := m.byRequest[k]
	m.mu.RUnlock()
	if c != nil {
		return c
	}
	status := strconv.Itoa(k.status)
	c = &requestCounters{
		requests: m.requests.WithLabelValues(k.provider, k.namespace, k.account, k.client, status),
		input:    m.tokens.WithLabelValues(k.provider, k.namespace, k.account, k.client, "input"),
		output:   m.tokens.WithLabelValues(k.provider, k.namespace, k.account, k.client, "output"),
	}
	m.mu.Lock()
	m.byRequest[k] = c
	m.mu.Unlock()
	return c
}

func (m *metrics) request(x *exchange) {
	c := m.counters(requestKey{x.key.Provider, x.key.Namespace, x.account.Label, x.client, x.status})
	c.requests.Inc()
	if x.in > 0 {
		c.input.Add(float64(x.in))
	}
	if x.out > 0 {
		c.output.Add(float64(x.out))
	}
}
