package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/authvault/authvault/adapters"
	"github.com/authvault/authvault/pool"
	"github.com/authvault/authvault/records"
)

// Transport is an http.RoundTripper that sends each request with an account
// from a pool and, when that account is rate-limited, out of quota or
// rejected, sends the same request again with the next one before the
// caller sees an error. See the package documentation.
type Transport struct {
	pool    *pool.Pool
	adapter adapters.Adapter
	cfg     config
	flight  singleflight.Group
}

// New returns a Transport that serves requests with p's accounts,
// authorized by a. Tokens are refreshed through p's leases, and the time
// is p's (pool.WithClock).
func New(p *pool.Pool, a adapters.Adapter, opts ...Option) *Transport {
	return &Transport{pool: p, adapter: a, cfg: newConfig(opts)}
}

// replayBody makes the request body available for every attempt.
type replayBody struct {
	getBody func() (io.ReadCloser, error) // the caller's, or over buf
	first   io.ReadCloser                 // the caller's body, for the first attempt
	buf     []byte                        // when buffered
	length  int64
	once    io.Reader // when too large: the only attempt's body
	closer  io.Closer // closed when the request ends
}

func (t *Transport) prepareBody(req *http.Request) (*replayBody, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.GetBody != nil {
		// The caller's body serves the first attempt, as net/http's own
		// retries do; GetBody the others.
		return &replayBody{getBody: req.GetBody, first: req.Body, length: req.ContentLength, closer: req.Body}, nil
	}
	limit := t.cfg.maxReplay
	buf, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		req.Body.Close()
		return nil, fmt.Errorf("authvault: reading the request body: %w", err)
	}
	if int64(len(buf)) > limit {
		return &replayBody{once: io.MultiReader(bytes.NewReader(buf), req.Body), length: req.ContentLength, closer: req.Body}, nil
	}
	req.Body.Close()
	b := &replayBody{buf: buf, length: int64(len(buf))}
	b.getBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b.buf)), nil }
	return b, nil
}

func (b *replayBody) replayable() bool { return b == nil || b.once == nil }

// body returns the body for one attempt.
func (b *replayBody) body() (io.ReadCloser, func() (io.ReadCloser, error), error) {
	switch {
	case b.first != nil:
		// Sent, it is closed by the base transport.
		rc := b.first
		b.first, b.closer = nil, nil
		return rc, b.getBody, nil
	case b.getBody != nil:
		rc, err := b.getBody()
		return rc, b.getBody, err
	default:
		r := b.once
		b.once = eofReader{}
		return io.NopCloser(r), nil, nil
	}
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

func (b *replayBody) close() {
	if b != nil && b.closer != nil {
		b.closer.Close()
	}
}

// RoundTrip implements http.RoundTripper. It never modifies req, always
// closes req.Body, and returns a response or an error, not both.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.cfg.err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, t.cfg.err
	}
	ctx := req.Context()
	body, err := t.prepareBody(req)
	if err != nil {
		return nil, err
	}
	defer body.close()

	hint := pool.Hint{}
	if t.cfg.session != nil {
		hint.Session = t.cfg.session(req)
	}
	if t.cfg.model != nil {
		var b []byte
		if body != nil {
			b = body.buf
		}
		hint.Model = t.cfg.model(req, b)
	}
	r := &attempt{t: t, req: req, body: body, hint: hint}
	r.tried = r.triedBuf[:0]
	resp, err := r.run(ctx)
	// An account this request put out of service stays out for every
	// process, even one that exits as soon as this returns: the change is
	// in the shared state first (a pool that writes behind has only
	// queued it). A cancelled request still writes it. A request that
	// changed nothing writes nothing, unless the counters are due.
	if ctx.Done() != nil {
		ctx = context.WithoutCancel(ctx)
	}
	t.pool.Flush(ctx) // a failure is the pool's Health
	return resp, err
}

// attempt is the state of one RoundTrip across accounts.
type attempt struct {
	t     *Transport
	req   *http.Request
	body  *replayBody
	hint  pool.Hint
	n     int
	tried []records.ID // accounts sent to this round
	// triedBuf backs tried for the common few accounts.
	triedBuf [4]records.ID
	last     *http.Response // the last failed answer, buffered
	lastBody bufferedBody   // last's body
	waited   time.Duration
	// The account the request last failed on, for the rotate event.
	failedID     records.ID
	failedWhy    string
	failedStatus int
}

func (a *attempt) emit(e Event) {
	if len(a.t.cfg.observers) == 0 {
		return
	}
	e.Time = a.t.pool.Now()
	e.Method = a.req.Method
	e.Host = a.req.URL.Host
	e.Context = a.req.Context()
	a.t.observe(e)
}

// observe gives e to every observer, in the order they were given.
func (t *Transport) observe(e Event) {
	for _, fn := range t.cfg.observers {
		fn(e)
	}
}

func (a *attempt) run(ctx context.Context) (*http.Response, error) {
	t := a.t
	for {
		if err := ctx.Err(); err != nil {
			a.discardLast()
			return nil, err
		}
		lease, err := t.pool.Acquire(ctx, a.hint)
		if err != nil {
			var ex *pool.ExhaustedError
			if !errors.As(err, &ex) {
				a.discardLast()
				return nil, fmt.Errorf("authvault: %s: %w", t.pool.Key(), err)
			}
			if wait := a.waitFor(ex); wait > 0 {
				if !t.cfg.sleep(ctx.Done(), wait) {
					a.discardLast()
					return nil, ctx.Err()
				}
				a.waited += wait
				continue
			}
			return a.exhausted(ex)
		}
		if slices.Contains(a.tried, lease.ID) || a.n >= hardMaxAttempts {
			// Every account has had its turn (one came back from a short
			// cooldown): stop rather than cycle.
			return a.exhausted(&pool.ExhaustedError{Key: t.pool.Key(), Soonest: t.pool.Now()})
		}
		if t.cfg.afterAcquire != nil {
			t.cfg.afterAcquire(lease)
		}
		a.tried = append(a.tried, lease.ID)
		resp, done, err := a.tryAccount(ctx, lease)
		if done {
			return resp, err
		}
	}
}

// waitFor returns how long to sleep for the soonest account, 0 to give up.
func (a *attempt) waitFor(ex *pool.ExhaustedError) time.Duration {
	if a.t.cfg.maxWait <= 0 || ex.Soonest.IsZero() || !a.body.replayable() {
		return 0
	}
	d := ex.Soonest.Sub(a.t.pool.Now())
	if d <= 0 {
		d = time.Millisecond
	}
	if a.waited+d > a.t.cfg.maxWait {
		return 0
	}
	// A fresh round: the accounts that cooled down may be tried again.
	a.tried = a.tried[:0]
	return d
}

// tryAccount sends the request with the lease's account, refreshing its
// token first or after a 401/403. done is false when the request should
// move on to the next account.
func (a *attempt) tryAccount(ctx context.Context, lease *pool.Lease) (resp *http.Response, done bool, err error) {
	t := a.t
	if a.failedID != (records.ID{}) && a.failedID != lease.ID {
		a.emit(Event{Kind: EventRotate, Account: lease.ID, From: a.failedID, Reason: a.failedWhy, Status: a.failedStatus, Attempt: a.n + 1})
	}
	rec, err := lease.Record(ctx)
	if err != nil {
		if ctx.Err() != nil {
			a.discardLast()
			return nil, true, ctx.Err()
		}
		// The record cannot be read (tampered with, unsafe permissions,
		// gone): the account is marked and skipped, and the request
		// moves on while others can serve.
		class := pool.UnreadableClass(err)
		t.pool.Report(lease, pool.Outcome{Kind: pool.RecordUnreadable, Reason: class})
		a.failedID, a.failedWhy, a.failedStatus = lease.ID, "record unreadable ("+class+")", 0
		a.emit(Event{Kind: EventUnreadable, Account: lease.ID, Reason: class})
		return nil, false, nil
	}
	refreshed := false
	if t.needsRefresh(rec) {
		nrec, err := t.refresh(ctx, lease, rec)
		if err != nil {
			if ctx.Err() != nil {
				a.discardLast()
				return nil, true, ctx.Err()
			}
			a.refreshFailed(lease, err)
			return nil, false, nil
		}
		rec, refreshed = nrec, true
	}
	for {
		resp, err := a.send(lease, rec)
		var oerr *OriginError
		if errors.As(err, &oerr) {
			// Not the account's fault: nothing was sent.
			a.discardLast()
			return nil, true, err
		}
		if err != nil {
			t.pool.Report(lease, pool.Outcome{Kind: pool.Transient, Reason: "transport error", Refreshed: refreshed})
			a.discardLast()
			return nil, true, err
		}
		out := t.adapter.Classify(resp, t.pool.Now())
		if out.Reason != "" && adapters.RecordHolds(rec, out.Reason) {
			// A provider's answer is not trusted to keep a credential out
			// of the codes the transport logs and the pool stores,
			// whatever the adapter did.
			out.Reason = adapters.WithheldReason
		}
		out.Refreshed = refreshed
		if out.Status == 0 {
			out.Status = resp.StatusCode
		}
		switch out.Kind {
		case pool.Success, pool.Overloaded, pool.Transient:
			t.pool.Report(lease, out)
			a.discardLast()
			return resp, true, nil
		case pool.AuthRejected:
			if !refreshed && t.refreshable(rec) && a.body.replayable() {
				drain(resp)
				nrec, err := t.refresh(ctx, lease, rec)
				if err != nil {
					if ctx.Err() != nil {
						a.discardLast()
						return nil, true, ctx.Err()
					}
					a.refreshFailed(lease, err)
					return nil, false, nil
				}
				rec, refreshed = nrec, true
				continue
			}
			if !t.refreshable(rec) && resp.StatusCode == http.StatusUnauthorized {
				// A static key the provider does not know: dead until an
				// operator replaces it.
				out.Kind = pool.NeedsReauth
				if out.Reason == "" {
					out.Reason = "credential rejected"
				}
			}
		}
		t.pool.Report(lease, out)
		a.noteFailure(lease, out)
		if !a.body.replayable() {
			a.discardLast()
			return resp, true, nil
		}
		a.keepLast(resp)
		return nil, false, nil
	}
}

func (a *attempt) noteFailure(lease *pool.Lease, out pool.Outcome) {
	a.failedID, a.failedWhy, a.failedStatus = lease.ID, reasonOr(out), out.Status
	switch out.Kind {
	case pool.RateLimited, pool.QuotaExhausted:
		a.emit(Event{Kind: EventCooldown, Account: lease.ID, Status: out.Status, Reason: reasonOr(out), Until: out.Until})
	default:
		a.emit(Event{Kind: EventDisabled, Account: lease.ID, Status: out.Status, Reason: reasonOr(out)})
	}
}

func reasonOr(o pool.Outcome) string {
	if o.Reason != "" {
		return o.Reason
	}
	return o.Kind.String()
}

func (a *attempt) refreshFailed(lease *pool.Lease, err error) {
	var re *adapters.RefreshError
	out := pool.Outcome{Kind: pool.Transient, Reason: "refresh failed"}
	if errors.As(err, &re) {
		if re.Code != "" {
			out.Reason = re.Code
		}
		out.Status = re.Status
		if re.Permanent {
			out.Kind = pool.NeedsReauth
		}
	}
	a.t.pool.Report(lease, out)
	a.failedID, a.failedWhy, a.failedStatus = lease.ID, out.Reason, out.Status
	if out.Kind == pool.NeedsReauth {
		a.emit(Event{Kind: EventDisabled, Account: lease.ID, Status: out.Status, Reason: out.Reason})
	}
}

// outRequest is one attempt's request and its URL.
type outRequest struct {
	req http.Request
	url url.URL
}

// send authorizes a clone of the request for rec and sends it.
func (a *attempt) send(lease *pool.Lease, rec *records.Record) (*http.Response, error) {
	t := a.t
	a.n++
	// A shallow copy, as Request.WithContext makes (the context is the
	// request's own), with a URL and headers of its own, which the
	// adapter may change (an account's own host, its credential); the
	// rest is only read on the way. Request and URL are one allocation.
	o := &outRequest{req: *a.req, url: *a.req.URL}
	out := &o.req
	out.URL = &o.url
	out.Header = cloneHeader(a.req.Header)
	out.Body, out.GetBody, out.ContentLength = nil, nil, 0
	if a.body != nil {
		b, get, err := a.body.body()
		if err != nil {
			return nil, fmt.Errorf("authvault: GetBody: %w", err)
		}
		out.Body, out.GetBody, out.ContentLength = b, get, a.body.length
	}
	if err := t.adapter.Authorize(out, rec); err != nil {
		if out.Body != nil {
			out.Body.Close()
		}
		return nil, fmt.Errorf("authvault: authorizing for %s: %w", lease.ID, err)
	}
	if !t.bound(out, rec) {
		if out.Body != nil {
			out.Body.Close()
		}
		return nil, &OriginError{Origin: adapters.OriginOf(out.URL), Pool: t.pool.Key(), Account: lease.ID}
	}
	a.emit(Event{Kind: EventAttempt, Account: lease.ID, Attempt: a.n})
	return t.cfg.base.RoundTrip(out)
}

// bound reports whether out, as the adapter authorized it, is addressed to
// an origin rec's credential may be sent to.
func (t *Transport) bound(out *http.Request, rec *records.Record) bool {
	if len(t.cfg.origins) > 0 && adapters.Bound(out.URL, t.cfg.origins) {
		return true
	}
	return adapters.Bound(out.URL, t.adapter.Origins(rec))
}

// keepLast keeps a failed answer to return if no account can serve: its
// body is buffered (bounded) and the connection released.
func (a *attempt) keepLast(resp *http.Response) {
	a.discardLast()
	b, _ := adapters.ReadBody(resp.Body, maxDrain)
	resp.Body.Close()
	a.lastBody = bufferedBody{b: b}
	resp.Body = &a.lastBody
	a.last = resp
}

// returnLast hands the kept answer to the caller, its framing headers
// describing the buffered body.
func (a *attempt) returnLast() *http.Response {
	resp := a.last
	a.last = nil
	n := len(a.lastBody.b)
	if resp.Header == nil {
		resp.Header = http.Header{} // a base transport may leave it unset
	}
	resp.ContentLength = int64(n)
	resp.Header.Set("Content-Length", strconv.Itoa(n))
	resp.TransferEncoding = nil
	return resp
}

func (a *attempt) discardLast() {
	if a.last != nil {
		a.last.Body.Close()
		a.last = nil
	}
}

// exhausted answers when no account can serve: the last upstream answer,
// or a synthetic 429, with Retry-After set to when the soonest account is
// ready.
func (a *attempt) exhausted(ex *pool.ExhaustedError) (*http.Response, error) {
	t := a.t
	now := t.pool.Now()
	a.emit(Event{Kind: EventExhausted, Until: ex.Soonest, Reason: ex.Error()})
	retry := ""
	if !ex.Soonest.IsZero() {
		secs := int64(math.Ceil(ex.Soonest.Sub(now).Seconds()))
		if secs < 1 {
			secs = 1
		}
		retry = strconv.FormatInt(secs, 10)
	}
	if a.last != nil {
		resp := a.returnLast()
		if retry != "" {
			resp.Header.Set("Retry-After", retry)
		}
		return resp, nil
	}
	return syntheticTooMany(a.req, t.pool.Key(), ex, retry), nil
}

// bufferedBody is a response body held in memory.
type bufferedBody struct{ b []byte }

func (r *bufferedBody) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func (*bufferedBody) Close() error { return nil }

// cloneHeader copies h for one attempt. The values are the caller's own
// slices, capped at their length: an adapter that adds a value (Add,
// append) gets a new array, one that sets a header (Set, assignment)
// replaces the slice, and neither can write into the caller's. Copying
// the map whole is cheaper than building one key by key.
func cloneHeader(h http.Header) http.Header {
	if h == nil {
		return make(http.Header, 2)
	}
	out := maps.Clone(h)
	for k, vv := range out {
		if cap(vv) != len(vv) {
			out[k] = vv[:len(vv):len(vv)]
		}
	}
	return out
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	resp.Body.Close()
}
