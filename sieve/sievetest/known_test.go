package sievetest

// knownFailures lists in-scope tests that fail, with the reason. The suite
// test fails when a test not listed here fails.
var knownFailures = map[string]string{}
