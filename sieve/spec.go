package sieve

// This file holds the tables that describe commands and tests: which
// extension enables them, which tags and positional arguments they take.
// The compiler checks scripts against these tables, so a script that passes
// compilation only reaches the interpreter with well-typed arguments.

// ValType is the type of a positional argument or a tag parameter.
type ValType int

// Argument types (RFC 5228 section 2.6).
const (
	TNone ValType = iota
	TString
	TStringList
	TNumber
)

// String names the type as error messages do.
func (t ValType) String() string {
	return [...]string{"nothing", "string", "string list", "number"}[t]
}

// TagDef describes one tagged argument.
type TagDef struct {
	Name  string  // without the colon
	Param ValType // type of the argument that follows; TNone for a flag
	Group string  // tags of one group exclude each other (e.g. "match")
	Ext   string  // extension that must be required for this tag
}

// Spec describes a command or a test. Extensions outside this package (the
// test-suite extension) build Specs too.
type Spec struct {
	Name   string
	Ext    string // extension that must be required; "" for core
	IsTest bool
	Tags   []TagDef
	Args   []ValType
	// ArgNames name the positional arguments in error messages
	// ("header names", "key list"); optional.
	ArgNames []string
	OptArgs  int // how many trailing Args may be omitted
	Tests    int // commands: 0 none, 1 one test, 2 test list
	Block    int // 0 no block, 1 block required

	// Check validates and preprocesses a node after the generic checks;
	// it may report several errors through c.
	Check func(c *Compiler, n *Node)
	// Run executes a command; Eval evaluates a test.
	Run  func(r *Runtime, n *Node) error
	Eval func(r *Runtime, n *Node) (bool, error)
}

// Extension bundles specs under a capability name for Options.Extensions.
type Extension struct {
	Name  string
	Specs []*Spec
	// Namespaces are variable namespaces (${ns.name}) the extension
	// provides; they expand to "" unless Lookup knows them.
	Namespaces []string
	// Lookup returns the value of ${ns.name} for one of Namespaces
	// (name without the namespace); nil means always "".
	Lookup func(ns, name string) string
}

// Node is a compiled command or test.
type Node struct {
	Spec  *Spec
	Pos   Pos
	Tags  map[string]*Value
	Args  []*Value
	Tests []*Node
	Block []*Node

	match *matchSpec // for tests that match
	data  any        // spec-specific compiled data
}

// Value is an argument value: a number or a list of strings.
type Value struct {
	Pos  Pos
	Type ValType
	Num  uint64
	Strs []string
}

// Tag reports whether tag t was given.
func (n *Node) Tag(t string) bool { _, ok := n.Tags[t]; return ok }

// TagValue returns the parameter of tag t, or nil.
func (n *Node) TagValue(t string) *Value { return n.Tags[t] }

// match type and comparator tags shared by most tests (RFC 5228 2.7).
var matchTags = []TagDef{
	{Name: "is", Group: "match"},
	{Name: "contains", Group: "match"},
	{Name: "matches", Group: "match"},
	{Name: "regex", Group: "match", Ext: "regex"},
	{Name: "value", Param: TString, Group: "match", Ext: "relational"},
	{Name: "count", Param: TString, Group: "match", Ext: "relational"},
	{Name: "comparator", Param: TString, Group: "comparator"},
}

var addrPartTags = []TagDef{
	{Name: "all", Group: "addresspart"},
	{Name: "localpart", Group: "addresspart"},
	{Name: "domain", Group: "addresspart"},
	{Name: "user", Group: "addresspart", Ext: "subaddress"},
	{Name: "detail", Group: "addresspart", Ext: "subaddress"},
}

var indexTags = []TagDef{
	{Name: "index", Param: TNumber, Ext: "index"},
	{Name: "last", Ext: "index"},
}

var mimeTags = []TagDef{
	{Name: "mime", Ext: "mime"},
	{Name: "anychild", Ext: "mime"},
	{Name: "type", Group: "mimeopt", Ext: "mime"},
	{Name: "subtype", Group: "mimeopt", Ext: "mime"},
	{Name: "contenttype", Group: "mimeopt", Ext: "mime"},
	{Name: "param", Param: TStringList, Group: "mimeopt", Ext: "mime"},
}

func tags(groups ...[]TagDef) []TagDef {
	var out []TagDef
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// registry maps names to specs for one compile.
type registry struct {
	cmds  map[string]*Spec
	tests map[string]*Spec
}

func (reg *registry) add(s *Spec) {
	if s.IsTest {
		reg.tests[s.Name] = s
	} else {
		reg.cmds[s.Name] = s
	}
}

// knownExtensions are the capabilities this package implements, with the
// default enabled state (Pigeonhole's defaults).
var knownExtensions = map[string]bool{
	"fileinto": true, "reject": true, "ereject": true, "envelope": true,
	"encoded-character": true, "copy": true, "body": true, "variables": true,
	"vacation": true, "vacation-seconds": false, "relational": true,
	"comparator-i;ascii-numeric": true, "comparator-i;octet": true,
	"comparator-i;ascii-casemap": true, "subaddress": true, "imap4flags": true,
	"date": true, "index": true, "editheader": false, "mailbox": true,
	"include": true, "duplicate": true, "spamtest": false, "spamtestplus": false,
	"virustest": false, "environment": true, "regex": true, "mime": true,
	"foreverypart": true, "extracttext": true, "enotify": true, "ihave": true,
	"vnd.dovecot.duplicate": false,
}
