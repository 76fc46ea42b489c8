// Package discovery lists the models an OpenAI-compatible endpoint offers
// (GET <base>/models, answering {"data":[{"id":…},…]}), with an optional
// cache so that a process asks at most once per TTL.
//
// Discovery is off unless asked for: no adapter calls it, and it sends
// nothing until Models is called.
//
// # Which function to call
//
//	models, err := discovery.Models(ctx, client, "https://api.together.xyz/v1",
//		discovery.WithCache(cache), // optional
//	)
//
// client sends the request: pass an authvault client (from the transport)
// and the request is authorized, rotated and refreshed like any other.
// Without WithCache every call asks the server.
//
// With a Cache, a list younger than the TTL (default 12 h, WithTTL) is
// served without a request. An older one is revalidated with a conditional
// request (If-None-Match with the stored ETag, If-Modified-Since with the
// stored Last-Modified); a 304 answer renews the stored list's TTL without
// downloading it again.
//
// Cache is two methods, Load and Store, so any store fits: MemoryCache for
// one process, CacheFuncs to wrap two functions (for example the vault's
// sealed state blobs, which every process on a machine shares). The cache
// is best effort: a failing Load is a miss, a failing Store is reported to
// the WithCacheErrors hook and does not fail the call.
//
// Answers are read bounded (8 MiB) and checked: a list
// without "data", or with an id that is empty, over 256 bytes or holds
// control characters, is ErrMalformed. A non-2xx answer is a *StatusError
// with the status, the error code when the body has a short one, and the
// Retry-After time.
package discovery
