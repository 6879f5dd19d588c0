package maildir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf16"
)

// FolderPath returns the directory of folder under root in the Maildir++
// layout: INBOX is root itself, "Archive/2024" (or "Archive.2024") is
// root/.Archive.2024, non-ASCII names are modified UTF-7 (RFC 3501
// 5.1.3) as Dovecot stores them.
func FolderPath(root, folder string) (string, error) {
	if folder == "" || strings.EqualFold(folder, "INBOX") {
		return root, nil
	}
	name := strings.ReplaceAll(folder, "/", ".")
	if strings.HasPrefix(name, "INBOX.") || strings.HasPrefix(name, "inbox.") {
		name = name[len("INBOX."):]
	}
	for _, part := range strings.Split(name, ".") {
		if part == "" || part == ".." || strings.ContainsAny(part, "\x00\r\n") {
			return "", fmt.Errorf("maildir: invalid folder name %q", folder)
		}
	}
	return filepath.Join(root, "."+encodeMUTF7(name)), nil
}

// FSFolderPath is FolderPath for LAYOUT=fs: "Archive/2024" is
// root/Archive/2024 ("/" is the only separator).
func FSFolderPath(root, folder string) (string, error) {
	if folder == "" || strings.EqualFold(folder, "INBOX") {
		return root, nil
	}
	parts := strings.Split(folder, "/")
	for i, part := range parts {
		if part == "" || part == "." || part == ".." || strings.ContainsAny(part, "\x00\r\n") {
			return "", fmt.Errorf("maildir: invalid folder name %q", folder)
		}
		parts[i] = encodeMUTF7(part)
	}
	return filepath.Join(append([]string{root}, parts...)...), nil
}

func (m *Maildir) folderPath(folder string) (string, error) {
	if m.LayoutFS {
		return FSFolderPath(m.Root, folder)
	}
	return FolderPath(m.Root, folder)
}

// folderDir returns the folder's directory, creating INBOX's tmp/new/cur
// always and other folders only when create is set.
func (m *Maildir) folderDir(folder string, create bool) (string, error) {
	dir, err := m.folderPath(folder)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, "cur")); err == nil {
		return dir, m.ensureSub(dir)
	}
	if dir != m.Root && !create {
		return "", fmt.Errorf("%w: %s", ErrNoFolder, folder)
	}
	if err := m.mkdirAll(m.Root); err != nil {
		return "", err
	}
	if err := m.ensureSub(m.Root); err != nil {
		return "", err
	}
	if dir == m.Root {
		return dir, nil
	}
	if err := m.mkdirAll(dir); err != nil {
		return "", err
	}
	if err := m.ensureSub(dir); err != nil {
		return "", err
	}
	if m.LayoutFS {
		return dir, nil
	}
	return dir, m.touch(filepath.Join(dir, "maildirfolder"))
}

// ensureSub makes tmp/, new/ and cur/ if one is missing (a folder made by
// hand, or a Maildir whose tmp/ was cleaned up).
func (m *Maildir) ensureSub(dir string) error {
	for _, s := range []string{"tmp", "new", "cur"} {
		if err := m.mkdir(filepath.Join(dir, s)); err != nil {
			return err
		}
	}
	return nil
}

func (m *Maildir) mkdir(dir string) error {
	err := os.Mkdir(dir, 0o700)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	if m.Chown {
		if err := os.Lchown(dir, m.UID, m.GID); err != nil {
			return fmt.Errorf("maildir: %w", err)
		}
	}
	return nil
}

// mkdirAll creates dir and missing parents, owned by the user (a new
// virtual user's home such as /var/vmail/example.org/john).
func (m *Maildir) mkdirAll(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := m.mkdirAll(parent); err != nil {
			return err
		}
	}
	return m.mkdir(dir)
}

func (m *Maildir) touch(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	if m.Chown {
		f.Chown(m.UID, m.GID)
	}
	return f.Close()
}

// Exists reports whether folder exists (Sieve mailboxexists).
func (m *Maildir) Exists(folder string) bool {
	dir, err := m.folderPath(folder)
	if err != nil {
		return false
	}
	if dir == m.Root {
		return true
	}
	st, err := os.Stat(dir)
	return err == nil && st.IsDir()
}

// encodeMUTF7 encodes a folder name in IMAP's modified UTF-7: printable
// ASCII stays, "&" becomes "&-", other runs become "&<base64 UTF-16>-"
// with "," instead of "/".
func encodeMUTF7(s string) string {
	var b strings.Builder
	var run []rune
	flush := func() {
		if len(run) == 0 {
			return
		}
		u := utf16.Encode(run)
		raw := make([]byte, 0, len(u)*2)
		for _, c := range u {
			raw = append(raw, byte(c>>8), byte(c))
		}
		b.WriteByte('&')
		b.WriteString(mutf7Base64(raw))
		b.WriteByte('-')
		run = run[:0]
	}
	for _, r := range s {
		switch {
		case r == '&':
			flush()
			b.WriteString("&-")
		case r >= 0x20 && r <= 0x7e:
			flush()
			b.WriteRune(r)
		default:
			run = append(run, r)
		}
	}
	flush()
	return b.String()
}

const mutf7Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"

// mutf7Base64 is base64 with the "," alphabet and no padding.
func mutf7Base64(b []byte) string {
	var out []byte
	for i := 0; i < len(b); i += 3 {
		var v uint32
		n := min(3, len(b)-i)
		for j := 0; j < 3; j++ {
			v <<= 8
			if j < n {
				v |= uint32(b[i+j])
			}
		}
		for j := 0; j < n+1; j++ {
			out = append(out, mutf7Alphabet[(v>>(18-6*j))&63])
		}
	}
	return string(out)
}
