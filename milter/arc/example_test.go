package arc

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"time"
)

func ExampleSealer_Seal() {
	seed := make([]byte, ed25519.SeedSize) // a fixed key, for a stable example
	key := ed25519.NewKeyFromSeed(seed)
	r := mapDNS{"arc._domainkey.lists.example": "v=DKIM1; k=ed25519; p=" +
		base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))}
	m := parseMessage("From: a@example.com\nSubject: hello\n\nhi\n")

	arrival := Verify(context.Background(), r, m) // none: no ARC yet
	s := &Sealer{Domain: "lists.example", Selector: "arc", Key: key, Now: func() time.Time { return time.Unix(1700000000, 0) }}
	set, err := s.Seal(m, arrival, "mx.lists.example", []string{"spf=pass smtp.mailfrom=example.com", "arc=" + arrival.Status})
	if err != nil {
		panic(err)
	}
	m.Header = append(set, m.Header...)
	after := Verify(context.Background(), r, m)
	fmt.Println(arrival.Status, set[0].Name, after.Status, after.Sealers)
	// Output: none ARC-Seal pass [lists.example]
}
