package bayes_test

import (
	"context"
	"fmt"

	"github.com/gomilter/gomilter/internal/bayes"
)

// Learning and scoring with an in-memory store; a real setup uses
// bayes.OpenBolt or bayes.NewRedisStore. MinSpam/MinHam are lowered from
// SpamAssassin's 200 so that the example can learn a handful of messages.
func Example() {
	ctx := context.Background()
	c, err := bayes.New(bayes.Options{Store: bayes.NewMemoryStore(), MinSpam: 2, MinHam: 2})
	if err != nil {
		panic(err)
	}
	learn := func(id, text string, spam bool) {
		msg := bayes.ParseMessage([]byte("Message-ID: <" + id + ">\r\nSubject: note\r\n\r\n" + text + "\r\n"))
		if _, err := c.Learn(ctx, msg, spam, ""); err != nil {
			panic(err)
		}
	}
	learn("s1@x", "cheap pills online pharmacy discount", true)
	learn("s2@x", "online casino discount bonus", true)
	learn("h1@x", "minutes of the project meeting attached", false)
	learn("h2@x", "project review meeting moved to friday", false)

	msg := bayes.ParseMessage([]byte("Subject: note\r\n\r\ndiscount pharmacy online\r\n"))
	p, ok, err := c.Score(ctx, msg, "")
	fmt.Println(ok, err, bayes.Rule(p))
	// Output: true <nil> BAYES_95
}
