//go:build !openssl || !cgo

package dkim

import "crypto"

// RSASigner names the RSA implementation this binary signs with: Go's
// own by default (a static binary, no cgo); build with -tags openssl for
// libcrypto's, about three times faster per RSA-2048 signature.
const RSASigner = "go"

func fastSigner(s crypto.Signer) crypto.Signer { return s }
