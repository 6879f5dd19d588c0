package config

import (
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// WriteEffective prints the configuration in force, in the file's own
// syntax, so check-config shows what the defaults filled in. Fields tagged
// `secret:"true"` (SQL passwords and the like) print as "***".
func (c *Config) WriteEffective(w io.Writer) {
	src := c.file
	if src == "" {
		src = "embedded default"
	}
	fmt.Fprintf(w, "# effective configuration (%s)\n", src)
	writeStruct(w, reflect.ValueOf(c).Elem(), 0)
}

func writeStruct(w io.Writer, v reflect.Value, depth int) {
	indent := strings.Repeat("  ", depth)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		if f.Tag.Get("secret") == "true" {
			fmt.Fprintf(w, "%s%s: %q\n", indent, name, Mask(fv.String()))
			continue
		}
		if s, ok := scalarText(fv); ok {
			fmt.Fprintf(w, "%s%s: %s\n", indent, name, s)
			continue
		}
		fmt.Fprintf(w, "%s%s:\n", indent, name)
		writeStruct(w, fv, depth+1)
	}
}

// scalarText renders v on one line, or reports false for a nested struct.
func scalarText(v reflect.Value) (string, bool) {
	switch x := v.Interface().(type) {
	case Listener:
		if x.Network != "unix" || x.IsZero() {
			return strconv.Quote(x.String()), true
		}
		return fmt.Sprintf("{address: %q, owner: %q, group: %q, mode: \"%04o\"}", x.String(), x.Owner, x.Group, x.Mode.Perm()), true
	case time.Duration:
		return x.String(), true
	case Prefix:
		return strconv.Quote(x.String()), true
	case *bool:
		return strconv.FormatBool(On(x)), true
	}
	switch v.Kind() {
	case reflect.String:
		return strconv.Quote(v.String()), true
	case reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
		return fmt.Sprint(v.Interface()), true
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			s, _ := scalarText(v.Index(i))
			parts[i] = s
		}
		return "[" + strings.Join(parts, ", ") + "]", true
	case reflect.Pointer:
		if v.IsNil() {
			return "null", true
		}
		return scalarText(v.Elem())
	}
	return "", false
}

// Mask hides a secret for printing: empty stays empty, anything else is ***.
func Mask(s string) string {
	if s == "" {
		return ""
	}
	return "***"
}
