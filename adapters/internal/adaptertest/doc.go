// Package adaptertest holds helpers shared by the adapters' tests:
// building responses from fixtures, checking that Classify left the
// body intact for the caller, and checking that no secret reached an
// error message.
package adaptertest
