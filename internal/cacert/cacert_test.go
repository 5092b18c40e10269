package cacert

import (
	"bytes"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/errs"

	"github.com/ipabr/ipabr/internal/testenv"
)

func read(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseAcceptsCACertificates(t *testing.T) {
	o := testenv.NewOpenSSL(t)
	a, b := o.CA("Ironic Private Root CA"), o.CA("Second CA")
	certs, err := Parse(append(append(read(t, a.Cert), '\n'), read(t, b.Cert)...), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 2 || certs[0].Subject.CommonName != "Ironic Private Root CA" || !certs[1].IsCA {
		t.Fatalf("certs: %v", certs)
	}
}

// TestParseRefuses: each kind of input that is not a CA certificate valid
// today is refused as bad input, naming the problem and never showing the
// input (a private key least of all).
func TestParseRefuses(t *testing.T) {
	o := testenv.NewOpenSSL(t)
	ca := o.CA("Ironic Private Root CA")
	server := o.Server(ca, "ironic.example")
	expired := o.ExpiredCA("Old CA")
	der := filepath.Join(t.TempDir(), "ca.der")
	if out, err := exec.Command("openssl", "x509", "-in", ca.Cert, "-outform", "DER", "-out", der).CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v\n%s", err, out)
	}
	caPEM, keyPEM := read(t, ca.Cert), read(t, ca.Key)
	pubPEM, err := exec.Command("openssl", "pkey", "-in", ca.Key, "-pubout").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"a server certificate", read(t, server.Cert), "certificate 1 (CN=ironic.example) is not a CA certificate (no basicConstraints CA:TRUE)"},
		{"an expired CA", read(t, expired.Cert), "certificate 1 (CN=Old CA) expired on 2020-12-31"},
		{"a private key", keyPEM, "line 1: this is a private key; give only the CA's certificate (its content is not shown, and nothing was added)"},
		{"a certificate and its key", append(append([]byte{}, caPEM...), keyPEM...), "this is a private key"},
		{"garbage", []byte("hello, world\n"), "line 1: not a PEM certificate"},
		{"DER", read(t, der), "line 1: not a PEM certificate"},
		{"text before the certificate", append([]byte("\nsubject=CN = Ironic Private Root CA\n"), caPEM...), "line 2: text outside a PEM block"},
		{"text after the certificate", append(append([]byte{}, caPEM...), "trailing words\n"...), "not a PEM certificate"},
		{"a public key", pubPEM, `PEM block 1 is a "PUBLIC KEY", not a CERTIFICATE`},
		{"nothing", []byte("\n \n"), "no certificate found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.data, time.Now())
			if !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v; want bad input containing %q", err, c.want)
			}
			// No line of the input, nor any part of a key, in the message.
			for _, line := range bytes.Split(c.data, []byte("\n")) {
				if l := strings.TrimSpace(string(line)); len(l) > 16 && !strings.HasPrefix(l, "-----") && strings.Contains(err.Error(), l) {
					t.Errorf("the error shows input %q: %v", l, err)
				}
			}
		})
	}
	// Not valid yet: the same CA, seen from before it was made.
	if _, err := Parse(caPEM, time.Now().AddDate(-1, 0, 0)); !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), "is not valid before") {
		t.Errorf("not yet valid: %v", err)
	}
}

func TestReadRefusesLargeFiles(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.pem")
	if err := os.WriteFile(big, bytes.Repeat([]byte("A"), 5<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(nil, big); !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Fatalf("5 MB file: %v", err)
	}
	// Bounded: an endless standard input is read no further than needed.
	endless := &countingReader{}
	if _, err := Read(endless, "-"); !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), "standard input is larger than 1 MiB") {
		t.Fatalf("endless input: %v", err)
	}
	if endless.n > MaxFileSize+1 {
		t.Errorf("read %d bytes of an endless input, want at most %d", endless.n, MaxFileSize+1)
	}
	for name, want := range map[string]string{filepath.Join(t.TempDir(), "none"): "does not exist", t.TempDir(): "is a directory"} {
		if _, err := Read(nil, name); !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

type countingReader struct{ n int }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'A'
	}
	r.n += len(p)
	return len(p), nil
}

// BenchmarkReadFiveMegabytes: refusing a 5 MB file reads 1 MiB of it, not
// all of it as os.ReadFile (the plain way) does.
func BenchmarkReadFiveMegabytes(b *testing.B) {
	big := filepath.Join(b.TempDir(), "big.pem")
	if err := os.WriteFile(big, bytes.Repeat([]byte("A"), 5<<20), 0o644); err != nil {
		b.Fatal(err)
	}
	b.Run("cacert.Read", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := Read(nil, big); err == nil {
				b.Fatal("accepted")
			}
		}
	})
	b.Run("os.ReadFile", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := os.ReadFile(big); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestStore(t *testing.T) {
	o := testenv.NewOpenSSL(t)
	a, b := o.CA("Ironic Private Root CA"), o.CA("Second CA")
	store := Store{Dir: filepath.Join(t.TempDir(), DirName)}
	parse := func(files ...testenv.CertFiles) []*x509.Certificate {
		var out []*x509.Certificate
		for _, f := range files {
			certs, err := Parse(read(t, f.Cert), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, certs...)
		}
		return out
	}

	// Empty: no certificates, no configuration.
	if certs, err := store.List(); err != nil || len(certs) != 0 {
		t.Fatalf("empty store: %v, %v", certs, err)
	}
	res, err := store.Add(parse(a, b))
	if err != nil || len(res.Added) != 2 || len(res.Present) != 0 {
		t.Fatalf("add: %+v, %v", res, err)
	}
	for _, c := range res.Added {
		if fi, err := os.Stat(c.File); err != nil || fi.Mode().Perm() != 0o644 || filepath.Dir(c.File) != store.Dir {
			t.Errorf("%s: %v %v", c.File, fi, err)
		}
	}
	if got := read(t, store.IPAConfigPath()); !bytes.Equal(got, IPAConfig()) {
		t.Errorf("configuration:\n%s", got)
	}
	// Again: nothing new.
	res, err = store.Add(parse(a))
	if err != nil || len(res.Added) != 0 || len(res.Present) != 1 {
		t.Fatalf("add again: %+v, %v", res, err)
	}
	certs, err := store.List()
	if err != nil || len(certs) != 2 {
		t.Fatalf("list: %v, %v", certs, err)
	}

	// Remove by OpenSSL's colon form, and by a prefix.
	var first, second Certificate
	for _, c := range certs {
		if c.Cert.Subject.CommonName == "Ironic Private Root CA" {
			first = c
		} else {
			second = c
		}
	}
	out, err := exec.Command("openssl", "x509", "-in", a.Cert, "-noout", "-fingerprint", "-sha256").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "sha256 Fingerprint=" + first.Fingerprint() + "\n"; !strings.EqualFold(string(out), want) {
		t.Errorf("fingerprint %q, openssl says %q", want, out)
	}
	for _, bad := range []struct{ fp, want string }{
		{"00000000", "has the fingerprint 00000000"},
		{"abc", "is not a SHA-256 fingerprint"},
		{"SHA256:zz", "is not a SHA-256 fingerprint"},
	} {
		if _, err := store.Remove(bad.fp); !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("remove %s: %v", bad.fp, err)
		}
	}
	if got, err := store.Remove(strings.TrimPrefix(string(out), "sha256 Fingerprint=")); err != nil || got.Fingerprint() != first.Fingerprint() {
		t.Fatalf("remove by fingerprint: %v, %v", got, err)
	}
	if _, err := os.Stat(store.IPAConfigPath()); err != nil {
		t.Errorf("configuration gone with a certificate left: %v", err)
	}
	if _, err := store.Remove("SHA256:" + strings.ToLower(strings.ReplaceAll(second.Fingerprint(), ":", ""))[:8]); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(store.IPAConfigPath()); !os.IsNotExist(err) {
		t.Errorf("configuration kept with no certificate: %v", err)
	}

	// A broken file in the store is named, not skipped.
	if err := os.WriteFile(filepath.Join(store.Dir, "broken.crt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := store.List(); !errs.Is(err, errs.BadInput) || !strings.Contains(err.Error(), "broken.crt does not hold exactly one PEM certificate") {
		t.Errorf("broken file: %v", err)
	}
}

// TestIPAConfigAsOsloReadsIt parses the agent's configuration with
// Python's configparser, the INI dialect oslo.config reads: IPA's
// [DEFAULT] cafile option names the bundle.
func TestIPAConfigAsOsloReadsIt(t *testing.T) {
	python := testenv.Python(t, "hermetic")
	conf := filepath.Join(t.TempDir(), "00-ipabr-ca.conf")
	if err := os.WriteFile(conf, IPAConfig(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "-c", `import configparser, sys
c = configparser.ConfigParser()
if c.read(sys.argv[1]) != [sys.argv[1]]:
    sys.exit("not read")
print(c.sections(), dict(c["DEFAULT"]))`, conf).CombinedOutput()
	if err != nil {
		t.Fatalf("configparser: %v\n%s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "[] {'cafile': '"+Bundle+"'}"; got != want {
		t.Errorf("configparser read %s, want %s", got, want)
	}
}
