// Package adaptertest holds helpers shared by the adapters' tests:
// building responses from fixtures (JSON bodies, or raw HTTP responses
// under testdata/classify), checking that Classify left the body intact
// for the caller, checking that no secret reached an error message, a
// fake clock for the Now and Sleep options, and servers standing in for
// the hosts Authorize points accounts at.
package adaptertest
