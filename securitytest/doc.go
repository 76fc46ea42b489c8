// Package securitytest holds the tests behind SECURITY.md: one test, or a
// few, for every claim the document makes about what authvault protects,
// against whom, and how. The tests drive only the public APIs, as an
// attacker or an operator would, and use real processes where processes
// are the point (concurrent writers, a crashing program).
//
// The package has no code of its own. Run it with
//
//	go test -race ./securitytest/
//
// A test here fails when the claim it backs stops being true; the claim
// and the test must then change together. TestSecurityDocCitesTests keeps
// the document and the tests in step: every test cited in SECURITY.md must
// exist here, and every test here must be cited.
package securitytest
