package dkim

import (
	"context"
	"fmt"
	"strings"
)

// StaticResolver answers TXT lookups from a fixed map (OpenDKIM's
// TestPublicKeys file, tests, the check command's -record flag). Names
// compare case-insensitively, with or without a trailing dot.
type StaticResolver map[string][]string

// ErrNoRecord is returned by StaticResolver for an unknown name.
var ErrNoRecord = fmt.Errorf("dkim: no such record")

// LookupTXT implements TXTResolver.
func (s StaticResolver) LookupTXT(_ context.Context, name string) ([]string, error) {
	if v, ok := s[strings.ToLower(strings.TrimSuffix(name, "."))]; ok {
		return v, nil
	}
	return nil, ErrNoRecord
}

// LoadTestPublicKeys reads a TestPublicKeys file ("name record" lines).
func LoadTestPublicKeys(path string) (StaticResolver, error) {
	d, err := loadDataset("file:"+path, "")
	if err != nil {
		return nil, err
	}
	s := StaticResolver{}
	for _, e := range d.Entries {
		k := strings.ToLower(strings.TrimSuffix(e.Key, "."))
		s[k] = append(s[k], e.Value)
	}
	return s, nil
}
