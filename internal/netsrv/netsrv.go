// Package netsrv holds the accept loop every gomilter protocol server
// (milter, policy, dovecotauth, spamd) shares.
package netsrv

import (
	"errors"
	"net"
	"time"
)

// Accept accepts connections on l and hands each to handle until closing
// reports true (it then returns nil) or Accept fails for good (that error
// is returned). A temporary failure such as EMFILE or ECONNABORTED backs
// off from 5 ms up to 1 s, as net/http does, instead of spinning or
// giving up.
func Accept(l net.Listener, closing func() bool, handle func(net.Conn)) error {
	var delay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if closing() {
				return nil
			}
			if temporary(err) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		handle(c)
	}
}

func temporary(err error) bool {
	var te interface{ Temporary() bool }
	if errors.As(err, &te) && te.Temporary() {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
