package main

// vaultkey takes a redis:// or rediss:// URL wherever it takes a vault
// directory (--dir, copy): the Redis store registers those schemes when
// imported, and the library opens them through that registration.
import _ "github.com/authvault/authvault/vault/redisstore"
