package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Error is one problem found in a config file, located by line.
type Error struct {
	File string
	Line int
	Key  string // dotted path, e.g. milter.listen
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
}

// Errors is every problem found in one pass; its Error lists them one per line.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// nodeUnmarshaler is implemented by config types that parse themselves from
// a scalar or mapping (listeners, file modes, durations with units...).
type nodeUnmarshaler interface {
	unmarshalNode(n *yaml.Node) error
}

// decoder walks a yaml.Node tree into a struct and collects every error
// instead of stopping at the first, so an admin fixes a file in one round.
type decoder struct {
	file  string
	errs  Errors
	lines map[string]int // key path -> line, for validation errors
}

func (d *decoder) errorf(n *yaml.Node, key, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

var durationType = reflect.TypeOf(time.Duration(0))

func (d *decoder) decode(n *yaml.Node, key string, v reflect.Value) {
	if n.Kind == yaml.AliasNode {
		d.errorf(n, key, "YAML aliases are not allowed in the config")
		return
	}
	if d.lines != nil && key != "" {
		d.lines[key] = n.Line
	}
	if v.CanAddr() {
		if u, ok := v.Addr().Interface().(nodeUnmarshaler); ok {
			if err := u.unmarshalNode(n); err != nil {
				d.errorf(n, key, "%v", err)
			}
			return
		}
	}
	switch {
	case v.Type() == durationType:
		d.decodeDuration(n, key, v)
	case v.Kind() == reflect.Struct:
		d.decodeStruct(n, key, v)
	case v.Kind() == reflect.Slice:
		d.decodeSlice(n, key, v)
	case v.Kind() == reflect.Pointer:
		if n.Tag == "!!null" {
			return
		}
		p := reflect.New(v.Type().Elem())
		d.decode(n, key, p.Elem())
		v.Set(p)
	default:
		d.decodeScalar(n, key, v)
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, key string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		if n.Tag == "!!null" {
			return
		}
		d.errorf(n, key, "expected a mapping of keys, got %s", kindName(n))
		return
	}
	fields := structFields(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		name := kn.Value
		path := joinKey(key, name)
		if first, dup := seen[name]; dup {
			d.errorf(kn, path, "duplicate key (first set on line %d)", first)
			continue
		}
		seen[name] = kn.Line
		idx, ok := fields[name]
		if !ok {
			d.errorf(kn, path, "unknown key%s", suggest(name, fields))
			continue
		}
		d.decode(vn, path, v.Field(idx))
	}
}

func (d *decoder) decodeSlice(n *yaml.Node, key string, v reflect.Value) {
	if n.Tag == "!!null" {
		return
	}
	items := n.Content
	if n.Kind == yaml.ScalarNode {
		items = []*yaml.Node{n} // a single value is a one-element list
	} else if n.Kind != yaml.SequenceNode {
		d.errorf(n, key, "expected a list, got %s", kindName(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, it := range items {
		d.decode(it, fmt.Sprintf("%s[%d]", key, i), out.Index(i))
	}
	v.Set(out)
}

func (d *decoder) decodeDuration(n *yaml.Node, key string, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, key, "expected a duration such as 30s or 5m, got %s", kindName(n))
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil || dur < 0 {
		d.errorf(n, key, "invalid duration %q (use a unit: 500ms, 30s, 5m)", n.Value)
		return
	}
	v.SetInt(int64(dur))
}

func (d *decoder) decodeScalar(n *yaml.Node, key string, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, key, "expected a single value, got %s", kindName(n))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
	case reflect.Bool:
		b, err := strconv.ParseBool(n.Value)
		if err != nil || (n.Tag != "!!bool" && n.Tag != "!!str") {
			d.errorf(n, key, "expected true or false, got %q", n.Value)
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		i, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil || v.OverflowInt(i) {
			d.errorf(n, key, "expected an integer, got %q", n.Value)
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil {
			d.errorf(n, key, "expected a number, got %q", n.Value)
			return
		}
		v.SetFloat(f)
	default:
		d.errorf(n, key, "internal: unsupported config field type %s", v.Type())
	}
}

func structFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		out[name] = i
	}
	return out
}

func suggest(name string, fields map[string]int) string {
	for k := range fields {
		if strings.EqualFold(k, name) || strings.ReplaceAll(k, "_", "") == strings.ReplaceAll(strings.ToLower(name), "-", "") {
			return fmt.Sprintf(" (did you mean %q?)", k)
		}
	}
	return ""
}

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// parseYAML decodes data into v, collecting every error with its line.
func parseYAML(file string, data []byte, v any, lines map[string]int) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Errors{{File: file, Line: yamlErrLine(err), Key: "(file)", Msg: err.Error()}}
	}
	d := &decoder{file: file, lines: lines}
	if len(root.Content) == 0 {
		return nil // empty file: all defaults
	}
	d.decode(root.Content[0], "", reflect.ValueOf(v).Elem())
	if len(d.errs) > 0 {
		return d.errs
	}
	return nil
}

func yamlErrLine(err error) int {
	var line int
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		fmt.Sscanf(msg[i:], "line %d", &line)
	}
	return line
}

// AsErrors returns the list of config errors inside err, if any.
func AsErrors(err error) (Errors, bool) {
	var es Errors
	if errors.As(err, &es) {
		return es, true
	}
	var e *Error
	if errors.As(err, &e) {
		return Errors{e}, true
	}
	return nil, false
}
