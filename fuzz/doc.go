// Package fuzz holds authvault's fuzz targets: the record codec, the sealed
// envelope, the Retry-After parser, the migration parsers and the backup
// decoder. Each target's seed corpus is committed under testdata/fuzz or
// added by the target. Run one with, for example:
//
//	go test ./fuzz -run '^$' -fuzz '^FuzzRecordCodec$' -fuzztime 30s
package fuzz
