package spam_test

import (
	"context"
	"fmt"

	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/milter/spam"
)

// Example scores a message with a two-rule configuration and prints the
// verdict and the X-Spam-Status header SpamAssassin would add.
func Example() {
	eng, _, err := spam.LoadConf("local.cf", `
required_score 3
body  CHEAP_MEDS  /cheap\s+meds/i
score CHEAP_MEDS  2.5
header SUBJ_MEDS  Subject =~ /\bmeds\b/i
score SUBJ_MEDS   1.0
`, spam.Options{Hostname: "mx.example.org"})
	if err != nil {
		panic(err)
	}
	msg := &mailmsg.Message{
		Header: []mailmsg.Field{{Name: "Subject", Value: " meds"}},
		Body:   []byte("Get cheap meds today\r\n"),
	}
	res := eng.Check(context.Background(), &mailmsg.Envelope{}, msg)
	fmt.Println(res.IsSpam, res.Score, res.Rules)
	for _, h := range res.Headers {
		if h.Name == "X-Spam-Status" {
			fmt.Println(h.Name+":", h.Value)
		}
	}
	// Output:
	// true 3.5 [CHEAP_MEDS SUBJ_MEDS]
	// X-Spam-Status: Yes, score=3.5 required=3.0 tests=CHEAP_MEDS,SUBJ_MEDS
	//	autolearn=unavailable version=4.0.1
}
