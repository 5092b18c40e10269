package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// CertFiles are a certificate and its private key, PEM files the openssl
// command made.
type CertFiles struct{ Cert, Key string }

// opensslConfig holds the extensions of the certificates tests make, and
// what "openssl ca" needs to sign with dates of its choosing.
const opensslConfig = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
authorityKeyIdentifier = keyid
[ca]
default_ca = test_ca
[test_ca]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
`

// OpenSSL makes test certificates with the openssl command in a directory
// of its own; it skips t (tier "hermetic") without openssl.
type OpenSSL struct {
	t       testing.TB
	bin     string
	dir     string
	counter int
}

// NewOpenSSL prepares a directory for openssl's files.
func NewOpenSSL(t testing.TB) *OpenSSL {
	t.Helper()
	o := &OpenSSL{t: t, bin: Program(t, "hermetic", "openssl"), dir: t.TempDir()}
	for name, text := range map[string]string{"openssl.cnf": opensslConfig, "index.txt": "", "serial": "01\n"} {
		if err := os.WriteFile(filepath.Join(o.dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

func (o *OpenSSL) run(args ...string) {
	o.t.Helper()
	cmd := exec.Command(o.bin, args...)
	cmd.Dir = o.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		o.t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
}

// files names a new certificate and key, and a request for them.
func (o *OpenSSL) files() (CertFiles, string) {
	o.counter++
	base := filepath.Join(o.dir, "c"+string(rune('a'+o.counter)))
	return CertFiles{Cert: base + ".crt", Key: base + ".key"}, base + ".csr"
}

// newKey writes a P-256 key and a certificate request for cn.
func (o *OpenSSL) newKey(f CertFiles, csr, cn string) {
	o.run("req", "-new", "-config", "openssl.cnf", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
		"-nodes", "-keyout", f.Key, "-out", csr, "-subj", "/CN="+cn)
}

// CA makes a self-signed CA certificate (CA:TRUE, keyCertSign), valid for
// ten years from now.
func (o *OpenSSL) CA(cn string) CertFiles {
	o.t.Helper()
	f, _ := o.files()
	o.run("req", "-x509", "-config", "openssl.cnf", "-extensions", "ca_ext", "-newkey", "ec", "-pkeyopt",
		"ec_paramgen_curve:P-256", "-nodes", "-keyout", f.Key, "-out", f.Cert, "-days", "3650", "-subj", "/CN="+cn)
	return f
}

// ExpiredCA makes a self-signed CA certificate that was valid in 2020 only.
func (o *OpenSSL) ExpiredCA(cn string) CertFiles {
	o.t.Helper()
	f, csr := o.files()
	o.newKey(f, csr, cn)
	o.run("ca", "-batch", "-config", "openssl.cnf", "-selfsign", "-keyfile", f.Key, "-in", csr, "-out", f.Cert,
		"-startdate", "20200101000000Z", "-enddate", "20201231000000Z", "-extensions", "ca_ext", "-notext")
	return f
}

// Server makes a server certificate for 127.0.0.1 and localhost (CA:FALSE)
// that ca signed, valid for 30 days.
func (o *OpenSSL) Server(ca CertFiles, cn string) CertFiles {
	o.t.Helper()
	f, csr := o.files()
	o.newKey(f, csr, cn)
	o.run("x509", "-req", "-in", csr, "-CA", ca.Cert, "-CAkey", ca.Key, "-set_serial", "2", "-days", "30",
		"-extfile", "openssl.cnf", "-extensions", "server_ext", "-out", f.Cert)
	return f
}
