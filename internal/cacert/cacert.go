// Package cacert keeps the private certificate authorities the image must
// trust, so that the Ironic Python Agent can verify an Ironic API behind
// TLS: validation of PEM certificates with crypto/x509, the project's
// store, and the agent's configuration that points at the image's trust
// store.
//
// The store is the directory ca-certificates/ at the project root (untracked,
// like overlay/ and scripts/): one PEM file per certificate, named by the
// start of its SHA-256 fingerprint, and IPAConfigName while it holds any.
// It is not part of an output directory, so every output built from the
// project gets it: the board's post-build.sh installs the certificates as
// /usr/share/ca-certificates/ipabr/*.crt, rebuilds the image's trust store
// (/etc/ssl/certs, the ca-certificates bundle) and installs the
// configuration as /etc/ironic-python-agent.d/00-ipabr-ca.conf on every
// build (doc/image.md, "TLS").
//
// Like every package below cmd it never prints. Errors caused by the
// caller's input satisfy errs.Is(err, errs.BadInput); no error ever
// contains the content of the input, so a private key given by mistake is
// never echoed.
package cacert

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ipabr/ipabr/internal/errs"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/image"
)

// DirName is the store's directory at the project root.
const DirName = "ca-certificates"

// IPAConfigName is the agent's configuration in the store.
const IPAConfigName = "ironic-python-agent.conf"

// Bundle is the image's trust store as one file: Buildroot's ca-certificates
// bundle, which post-build.sh rebuilds with the store's certificates.
const Bundle = "/etc/ssl/certs/ca-certificates.crt"

// MaxFileSize bounds what Read accepts: a bundle of every public CA is
// about 200 KiB.
const MaxFileSize = 1 << 20

// badInputf is an error of kind errs.BadInput.
func badInputf(format string, a ...any) error { return errs.BadInputf(format, a...) }

// Certificate is a CA certificate of the store.
type Certificate struct {
	Cert *x509.Certificate
	File string // its file in the store; "" before it is added
}

// Fingerprint is the SHA-256 of the certificate's DER encoding as OpenSSL
// prints it ("openssl x509 -noout -fingerprint -sha256"): upper-case hex
// pairs separated by colons.
func (c Certificate) Fingerprint() string {
	sum := sha256.Sum256(c.Cert.Raw)
	pairs := make([]string, len(sum))
	for i, b := range sum {
		pairs[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(pairs, ":")
}

func (c Certificate) hexFingerprint() string {
	sum := sha256.Sum256(c.Cert.Raw)
	return hex.EncodeToString(sum[:])
}

// Subject is the certificate's subject in RFC 2253 form, quoted when it
// holds characters that could disturb a terminal.
func (c Certificate) Subject() string { return printable(c.Cert.Subject.String()) }

// Expires is the end of the certificate's validity, as a date.
func (c Certificate) Expires() string { return c.Cert.NotAfter.UTC().Format("2006-01-02") }

func printable(s string) string {
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// Read reads a certificate file, or standard input for "-", refusing
// anything larger than MaxFileSize after reading at most one byte more.
func Read(stdin io.Reader, name string) ([]byte, error) {
	label, r := "standard input", stdin
	if name != "-" {
		label = name
		f, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, badInputf("%s does not exist", name)
		}
		if err != nil {
			return nil, badInputf("%v", err) // "open FILE: permission denied"
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return nil, badInputf("%s is a directory, not a certificate file", name)
		}
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, badInputf("cannot read %s: %v", label, err)
	}
	if len(data) > MaxFileSize {
		return nil, badInputf("%s is larger than 1 MiB: not a CA certificate file", label)
	}
	return data, nil
}

// Parse checks that data holds PEM-encoded CA certificates, valid at now,
// and nothing else: a private key, text or binary data outside the PEM
// blocks, a certificate that is not a CA (basicConstraints CA:TRUE, and a
// key usage that allows signing certificates when it has one), or one that
// has expired or is not valid yet refuses the whole input. Errors name the
// line or the certificate, never the input's content.
func Parse(data []byte, now time.Time) ([]*x509.Certificate, error) {
	if line := privateKeyLine(data); line > 0 {
		return nil, badInputf("line %d: this is a private key; give only the CA's certificate (its content is not shown, and nothing was added)", line)
	}
	var certs []*x509.Certificate
	rest := data
	for {
		block, next := pem.Decode(rest)
		if block == nil {
			if len(bytes.TrimSpace(rest)) > 0 {
				return nil, badInputf("line %d: not a PEM certificate (want \"-----BEGIN CERTIFICATE-----\" blocks only; "+
					"convert DER with 'openssl x509 -inform DER -outform PEM')", lineOf(data, rest))
			}
			break
		}
		if skipped := rest[:len(rest)-len(next)]; len(bytes.TrimSpace(skipped[:bytes.Index(skipped, []byte("-----BEGIN"))])) > 0 {
			return nil, badInputf("line %d: text outside a PEM block; give the certificates only", lineOf(data, rest))
		}
		n := len(certs) + 1
		if block.Type != "CERTIFICATE" {
			return nil, badInputf("PEM block %d is a %q, not a CERTIFICATE", n, printable(block.Type))
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, badInputf("certificate %d: %v", n, err)
		}
		c := Certificate{Cert: cert}
		switch {
		case !cert.BasicConstraintsValid || !cert.IsCA:
			return nil, badInputf("certificate %d (%s) is not a CA certificate (no basicConstraints CA:TRUE): give the CA that signed Ironic's certificate, not a server's own", n, c.Subject())
		case cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0:
			return nil, badInputf("certificate %d (%s) has a key usage that does not allow signing certificates (keyCertSign)", n, c.Subject())
		case now.After(cert.NotAfter):
			return nil, badInputf("certificate %d (%s) expired on %s", n, c.Subject(), c.Expires())
		case now.Before(cert.NotBefore):
			return nil, badInputf("certificate %d (%s) is not valid before %s", n, c.Subject(), cert.NotBefore.UTC().Format(time.RFC3339))
		}
		certs = append(certs, cert)
		rest = next
	}
	if len(certs) == 0 {
		return nil, badInputf("no certificate found")
	}
	return certs, nil
}

// privateKeyLine is the 1-based line of the first private key header
// (PEM "-----BEGIN ... PRIVATE KEY-----", OpenSSH's and PKCS#8 encrypted
// ones included), or 0.
func privateKeyLine(data []byte) int {
	for i, line := range bytes.Split(data, []byte("\n")) {
		if bytes.Contains(line, []byte("-----BEGIN ")) && bytes.Contains(line, []byte("PRIVATE KEY")) {
			return i + 1
		}
	}
	return 0
}

// lineOf is the 1-based line of data at which its suffix rest starts
// (after leading blank lines).
func lineOf(data, rest []byte) int {
	start := len(data) - len(rest)
	start += len(rest) - len(bytes.TrimLeft(rest, " \t\r\n"))
	return bytes.Count(data[:start], []byte("\n")) + 1
}

// Store is the project's CA certificates.
type Store struct{ Dir string }

// ForProject is the store of the project at root.
func ForProject(root string) Store { return Store{Dir: filepath.Join(root, DirName)} }

// IPAConfigPath is the agent's configuration in the store.
func (s Store) IPAConfigPath() string { return filepath.Join(s.Dir, IPAConfigName) }

// List returns the store's certificates, in file-name order. A file that
// does not hold exactly one certificate is an error naming it.
func (s Store) List() ([]Certificate, error) {
	names, err := filepath.Glob(filepath.Join(s.Dir, "*.crt"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Certificate
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		block, rest := pem.Decode(data)
		if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) > 0 {
			return nil, badInputf("%s does not hold exactly one PEM certificate; remove it or replace it with 'ipabr ca add'", name)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, badInputf("%s: %v", name, err)
		}
		out = append(out, Certificate{Cert: cert, File: name})
	}
	return out, nil
}

// AddResult is what Add did with each certificate.
type AddResult struct {
	Added, Present []Certificate
}

// Add writes each certificate the store does not have yet to a file of
// its own (mode 0644; the temporary file and rename of
// image.WriteFileAtomic), then the agent's configuration.
func (s Store) Add(certs []*x509.Certificate) (*AddResult, error) {
	have, err := s.List()
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, c := range have {
		known[c.hexFingerprint()] = true
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, err
	}
	res := &AddResult{}
	for _, cert := range certs {
		c := Certificate{Cert: cert}
		fp := c.hexFingerprint()
		if known[fp] {
			res.Present = append(res.Present, c)
			continue
		}
		known[fp] = true
		c.File = filepath.Join(s.Dir, fp[:16]+".crt")
		if err := image.WriteFileAtomic(c.File, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
			return nil, err
		}
		res.Added = append(res.Added, c)
	}
	return res, s.writeIPAConfig()
}

// Remove deletes the certificate whose SHA-256 fingerprint is fingerprint
// (hex, with or without colons, any case, "sha256:" optional, or a unique
// prefix of at least 8 hex digits). Once the store is empty the agent's
// configuration goes too.
func (s Store) Remove(fingerprint string) (Certificate, error) {
	want := strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(fingerprint)))
	want = strings.TrimPrefix(want, "sha256")
	if _, err := hex.DecodeString(want + strings.Repeat("0", len(want)%2)); err != nil || len(want) < 8 || len(want) > 64 {
		return Certificate{}, badInputf("%q is not a SHA-256 fingerprint: give it as 'ipabr ca list' shows it (at least its first 8 hex digits)", printable(fingerprint))
	}
	have, err := s.List()
	if err != nil {
		return Certificate{}, err
	}
	var match []Certificate
	for _, c := range have {
		if strings.HasPrefix(c.hexFingerprint(), want) {
			match = append(match, c)
		}
	}
	switch len(match) {
	case 0:
		return Certificate{}, badInputf("no CA certificate in %s has the fingerprint %s ('ipabr ca list' shows them)", s.Dir, printable(fingerprint))
	case 1:
	default:
		return Certificate{}, badInputf("%d CA certificates have fingerprints starting with %s; give more of it", len(match), printable(fingerprint))
	}
	if err := os.Remove(match[0].File); err != nil {
		return Certificate{}, err
	}
	return match[0], s.writeIPAConfig()
}

// IPAConfig is the agent's configuration while the store holds
// certificates: IPA's [DEFAULT] cafile option (ironic_python_agent/config.py)
// makes requests verify HTTPS with the image's trust store instead of
// certifi's bundle, which lacks private CAs.
func IPAConfig() []byte {
	return []byte(`# Written by 'ipabr ca' (doc/image.md, "TLS"); post-build.sh installs it as
# /etc/ironic-python-agent.d/00-ipabr-ca.conf. The agent verifies HTTPS (the
# Ironic API, image downloads) against the image's trust store: the public
# CAs of Buildroot's ca-certificates and the private ones of ca-certificates/.
[DEFAULT]
cafile = ` + Bundle + "\n")
}

// writeIPAConfig writes IPAConfigName while the store holds certificates
// and removes it once it holds none.
func (s Store) writeIPAConfig() error {
	have, err := s.List()
	if err != nil {
		return err
	}
	if len(have) == 0 {
		if err := os.Remove(s.IPAConfigPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	return image.WriteFileAtomic(s.IPAConfigPath(), IPAConfig(), 0o644)
}

// CheckConfig names what in an output's configuration keeps the store's
// certificates from reaching its image, or from working there.
func CheckConfig(cfg *buildroot.Config) []string {
	var problems []string
	if !cfg.Enabled("BR2_PACKAGE_CA_CERTIFICATES") {
		problems = append(problems, "BR2_PACKAGE_CA_CERTIFICATES is off: the image's trust store will hold these CAs only, "+
			"not the public ones (downloads from public HTTPS servers fail); turn it on with 'ipabr menuconfig'")
	}
	if !strings.Contains(cfg.Values["BR2_ROOTFS_POST_BUILD_SCRIPT"], "board/openstack/ipa/post-build.sh") {
		problems = append(problems, "BR2_ROOTFS_POST_BUILD_SCRIPT does not run the board's post-build.sh, which installs "+
			DirName+"/: the image will not trust these CAs")
	}
	return problems
}
