package arc

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/gomilter/gomilter/internal/testenv"
)

type validationScenario struct {
	Description string            `yaml:"description"`
	TXT         map[string]string `yaml:"txt-records"`
	Tests       map[string]struct {
		Message     string `yaml:"message"`
		CV          string `yaml:"cv"`
		Description string `yaml:"description"`
	} `yaml:"tests"`
}

// knownValidation lists suite tests we knowingly answer differently.
var knownValidation = map[string]string{}

// readScenarios decodes every YAML document of a suite file.
func readScenarios[T any](t testing.TB, name string) []T {
	t.Helper()
	f, err := os.Open(filepath.Join(suiteDir(t), name))
	if err != nil {
		testenv.Missing(t, "ARC suite: %v", err)
		return nil
	}
	defer f.Close()
	var out []T
	dec := yaml.NewDecoder(f)
	for {
		var node yaml.Node
		if err := dec.Decode(&node); err != nil {
			if err.Error() == "EOF" {
				return out
			}
			t.Fatalf("%s: %v", name, err)
		}
		dedupe(&node)
		var s T
		if err := node.Decode(&s); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, s)
	}
}

// TestValidationSuite runs arc-draft-validation-tests.yml. An empty
// expected cv (the newest seal already says cv=fail; dkimpy gives no
// verdict) is scored against our RFC 8617 answer, fail.
func TestValidationSuite(t *testing.T) {
	total, failedTotal := 0, 0
	for _, sc := range readScenarios[validationScenario](t, "arc-draft-validation-tests.yml") {
		names := make([]string, 0, len(sc.Tests))
		for n := range sc.Tests {
			names = append(names, n)
		}
		sort.Strings(names)
		passed, failed := 0, 0
		for _, n := range names {
			tc := sc.Tests[n]
			want := strings.ToLower(tc.CV)
			if want == "" {
				want = StatusFail
			}
			got := Verify(context.Background(), mapDNS(sc.TXT), parseMessage(tc.Message))
			if got.Status == want {
				passed++
				continue
			}
			if why, known := knownValidation[n]; known {
				t.Logf("%s: known failure (%s): got %s, want %s", n, why, got.Status, want)
			} else {
				t.Errorf("%s (%s): got %s (%s), want %s", n, tc.Description, got.Status, got.Reason, want)
			}
			failed++
		}
		t.Logf("validation %q: %d passed, %d failed", strings.TrimSpace(sc.Description), passed, failed)
		total += passed + failed
		failedTotal += failed
	}
	t.Logf("validation total: %d passed, %d failed", total-failedTotal, failedTotal)
}

// dedupe keeps the last of repeated mapping keys, as PyYAML (the
// reference runner's loader) does: the validation file defines four
// as_fields_b_* tests twice.
func dedupe(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		last := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			last[n.Content[i].Value] = i
		}
		var kept []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if last[n.Content[i].Value] == i {
				kept = append(kept, n.Content[i], n.Content[i+1])
			}
		}
		n.Content = kept
	}
	for _, c := range n.Content {
		dedupe(c)
	}
}
