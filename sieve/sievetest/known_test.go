package sievetest

// knownFailures lists in-scope Pigeonhole tests that fail today, each with
// the reason. TestPigeonholeSuite fails when a test not listed here fails,
// so regressions are caught; it logs entries that start to pass.
var knownFailures = map[string]string{
	"execute/examples.svtest: Elvey example":                "fixture ../../examples/*.sieve lies outside tests/ and was not copied",
	"execute/examples.svtest: Jerry example":                "fixture ../../examples/*.sieve lies outside tests/ and was not copied",
	"execute/examples.svtest: M. Johnson example":           "fixture ../../examples/*.sieve lies outside tests/ and was not copied",
	"execute/examples.svtest: M. Klose example":             "fixture ../../examples/*.sieve lies outside tests/ and was not copied",
	"execute/examples.svtest: RFC 3028 example":             "fixture ../../examples/*.sieve lies outside tests/ and was not copied",
	"execute/examples.svtest: Relational (RFC5231) example": "fixture ../../examples/*.sieve lies outside tests/ and was not copied",
	"execute/examples.svtest: Sanjay example":               "fixture ../../examples/*.sieve lies outside tests/ and was not copied",
	"execute/examples.svtest: Sieve examples":               "fixture ../../examples/*.sieve lies outside tests/ and was not copied",
	"execute/examples.svtest: Subaddress (RFC5233) example": "fixture ../../examples/*.sieve lies outside tests/ and was not copied",
	"execute/examples.svtest: Vivil example":                "fixture ../../examples/*.sieve lies outside tests/ and was not copied",
}
