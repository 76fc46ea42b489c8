package discovery

import (
	"context"
	"errors"
	"sync"
)

// Cache stores model lists between calls (and, when it is shared storage,
// between processes). Load returns nil data and a nil error for a key it
// does not hold. Implementations must be safe for concurrent use.
type Cache interface {
	Load(ctx context.Context, key string) ([]byte, error)
	Store(ctx context.Context, key string, data []byte) error
}

// CacheFuncs adapts two functions to Cache, for wiring a store without
// declaring a type; the vault's state blobs, for example:
//
//	discovery.CacheFuncs{
//		LoadFunc:  func(ctx context.Context, key string) ([]byte, error) { … read state key … },
//		StoreFunc: func(ctx context.Context, key string, b []byte) error { … update state key … },
//	}
type CacheFuncs struct {
	LoadFunc  func(ctx context.Context, key string) ([]byte, error)
	StoreFunc func(ctx context.Context, key string, data []byte) error
}

// errNoFunc is returned by a CacheFuncs missing a function.
var errNoFunc = errors.New("cache function not set")

// Load calls LoadFunc.
func (c CacheFuncs) Load(ctx context.Context, key string) ([]byte, error) {
	if c.LoadFunc == nil {
		return nil, errNoFunc
	}
	return c.LoadFunc(ctx, key)
}

// Store calls StoreFunc.
func (c CacheFuncs) Store(ctx context.Context, key string, data []byte) error {
	if c.StoreFunc == nil {
		return errNoFunc
	}
	return c.StoreFunc(ctx, key, data)
}

// MemoryCache is a Cache in process memory. The zero value is ready to use.
type MemoryCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

// Load returns a copy of the data stored under key, or nil.
func (c *MemoryCache) Load(_ context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.m[key]
	if !ok {
		return nil, nil
	}
	return append([]byte{}, d...), nil
}

// Store keeps a copy of data under key.
func (c *MemoryCache) Store(_ context.Context, key string, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string][]byte{}
	}
	c.m[key] = append([]byte{}, data...)
	return nil
}
