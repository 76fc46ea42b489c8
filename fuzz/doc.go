// Package fuzz holds authvault's fuzz targets: the record codec, the sealed
// envelope, the Retry-After parser and the migration parsers. Each target's
// seed corpus is committed under testdata/fuzz. Run one with, for example:
//
//	go test ./fuzz -run '^$' -fuzz '^FuzzRecordCodec$' -fuzztime 30s
package fuzz
