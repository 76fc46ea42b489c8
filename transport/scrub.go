package transport

import "github.com/authvault/authvault/adapters"

// scrubReason drops a reason holding one of the record's secrets: a
// provider's answer is not trusted to keep a credential out of the error
// codes the transport logs and the pool stores, whatever the adapter did.
func scrubReason(reason string, secrets []string) string {
	if adapters.HoldsAny(reason, secrets) {
		return adapters.WithheldReason
	}
	return reason
}
