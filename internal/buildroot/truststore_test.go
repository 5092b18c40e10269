package buildroot_test

// post-build.sh and the project's private CAs (ipabr ca): the certificates
// of ca-certificates/ in the image's trust store, the agent's configuration
// beside them, and an HTTPS server on 127.0.0.1 that Python's ssl module
// (what requests uses underneath) verifies with the resulting bundle, as
// the agent does with its cafile option.

import (
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipabr/ipabr/internal/cacert"
	"github.com/ipabr/ipabr/internal/testenv"
)

// httpsStandIn serves HTTPS on 127.0.0.1 with the server certificate, as an
// Ironic API behind TLS would.
func httpsStandIn(t *testing.T, server testenv.CertFiles) string {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(server.Cert, server.Key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"name": "OpenStack Ironic API"}`))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes meant to fail
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL // https://127.0.0.1:PORT
}

// pythonVerifies reports whether Python's ssl verifies url with the CA
// file, or the CA directory (hash links) when capath is set.
func pythonVerifies(t *testing.T, url, cafile, capath string) (bool, string) {
	t.Helper()
	python := testenv.Python(t, "hermetic")
	out, err := exec.Command(python, "-c", `import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2] or None, capath=sys.argv[3] or None)
print(urllib.request.urlopen(sys.argv[1], context=ctx, timeout=10).read().decode())`, url, cafile, capath).CombinedOutput()
	return err == nil && strings.Contains(string(out), "OpenStack Ironic API"), string(out)
}

func TestPostBuildInstallsTheProjectsCAs(t *testing.T) {
	testenv.Program(t, "hermetic", "openssl")
	o := testenv.NewOpenSSL(t)
	public, private := o.CA("Public Root CA"), o.CA("Ironic Private Root CA")
	url := httpsStandIn(t, o.Server(private, "ironic"))

	// The target as Buildroot's ca-certificates leaves it, and a file of
	// an overlay in /etc/ssl/certs.
	p := newProject(t)
	target := filepath.Join(t.TempDir(), "target")
	writeFile(t, filepath.Join(target, "usr/share/ca-certificates/mozilla/Public_Root_CA.crt"), readFile(t, public.Cert), 0o644)
	writeFile(t, filepath.Join(target, "etc/ssl/certs/ca-certificates.crt"), readFile(t, public.Cert), 0o644)
	if err := os.Symlink("../../../usr/share/ca-certificates/mozilla/Public_Root_CA.crt", filepath.Join(target, "etc/ssl/certs/Public_Root_CA.pem")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(target, "etc/ssl/certs/from-an-overlay.pem"), readFile(t, o.CA("Overlay CA").Cert), 0o644)
	bundle := filepath.Join(target, "etc/ssl/certs/ca-certificates.crt")
	if ok, _ := pythonVerifies(t, url, bundle, ""); ok {
		t.Fatal("the public bundle alone verifies the private CA's server")
	}

	// ipabr ca add, as the command does it.
	store := cacert.ForProject(p.root)
	certs, err := cacert.Parse([]byte(readFile(t, private.Cert)), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := store.Add(certs)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimSuffix(filepath.Base(res.Added[0].File), ".crt")
	if r := p.run(t, "post-build.sh", true, target); r.code != 0 || r.stderr != "" {
		t.Fatalf("post-build.sh: exit %d: %s", r.code, r.stderr)
	}
	installed := filepath.Join(target, "usr/share/ca-certificates/ipabr", name+".crt")
	if readFile(t, installed) != readFile(t, res.Added[0].File) || mode(t, installed) != 0o644 {
		t.Errorf("%s is not the store's certificate, mode 0644", installed)
	}
	if link, err := os.Readlink(filepath.Join(target, "etc/ssl/certs", name+".pem")); err != nil || link != "../../../usr/share/ca-certificates/ipabr/"+name+".crt" {
		t.Errorf("the .pem link: %q, %v", link, err)
	}
	text := readFile(t, bundle)
	if !strings.Contains(text, readFile(t, public.Cert)) || !strings.Contains(text, readFile(t, res.Added[0].File)) {
		t.Errorf("the bundle lacks the public or the private CA")
	}
	conf := filepath.Join(target, "etc/ironic-python-agent.d/00-ipabr-ca.conf")
	if readFile(t, conf) != string(cacert.IPAConfig()) {
		t.Errorf("%s:\n%s", conf, readFile(t, conf))
	}
	if ok, out := pythonVerifies(t, url, bundle, ""); !ok {
		t.Errorf("Python's ssl does not verify %s with the bundle:\n%s", url, out)
	}
	if ok, out := pythonVerifies(t, url, "", filepath.Join(target, "etc/ssl/certs")); !ok {
		t.Errorf("Python's ssl does not verify %s with the hash links of /etc/ssl/certs:\n%s", url, out)
	}
	if _, err := os.Stat(filepath.Join(target, "etc/ssl/certs/from-an-overlay.pem")); err != nil {
		t.Errorf("the overlay's file went: %v", err)
	}
	// Again: nothing changes.
	before := readFile(t, bundle)
	if r := p.run(t, "post-build.sh", true, target); r.code != 0 || readFile(t, bundle) != before {
		t.Errorf("second run: exit %d, bundle changed: %v; %s", r.code, readFile(t, bundle) != before, r.stderr)
	}

	// ipabr ca remove: the next build takes the CA out of the image.
	if _, err := store.Remove(res.Added[0].Fingerprint()); err != nil {
		t.Fatal(err)
	}
	if r := p.run(t, "post-build.sh", true, target); r.code != 0 || r.stderr != "" {
		t.Fatalf("post-build.sh after remove: exit %d: %s", r.code, r.stderr)
	}
	for _, gone := range []string{filepath.Dir(installed), conf, filepath.Join(target, "etc/ssl/certs", name+".pem")} {
		if _, err := os.Lstat(gone); !os.IsNotExist(err) {
			t.Errorf("%s is still there (%v)", gone, err)
		}
	}
	if ok, _ := pythonVerifies(t, url, bundle, ""); ok {
		t.Error("the bundle still verifies the removed CA's server")
	}
	if ok, _ := pythonVerifies(t, url, "", filepath.Join(target, "etc/ssl/certs")); ok {
		t.Error("the hash links still verify the removed CA's server")
	}
	if !strings.Contains(readFile(t, bundle), readFile(t, public.Cert)) {
		t.Error("the public CA left the bundle")
	}
}

// With HOST_DIR (Buildroot sets it), the hash links come from host-openssl's
// c_rehash, as Buildroot's ca-certificates package makes them.
func TestPostBuildRehashesWithHostCRehash(t *testing.T) {
	crehash := testenv.Program(t, "hermetic", "c_rehash")
	o := testenv.NewOpenSSL(t)
	p := newProject(t)
	host := t.TempDir()
	record := filepath.Join(t.TempDir(), "called")
	writeFile(t, filepath.Join(host, "bin/c_rehash"), "#!/bin/sh\necho \"$@\" >'"+record+"'\nexec "+crehash+" \"$@\"\n", 0o755)
	t.Setenv("HOST_DIR", host)
	ca := o.CA("Ironic Private Root CA")
	certs, err := cacert.Parse([]byte(readFile(t, ca.Cert)), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := cacert.ForProject(p.root).Add(certs)
	if err != nil {
		t.Fatal(err)
	}
	// A target without Buildroot's ca-certificates: the bundle holds the
	// project's CAs only.
	target := t.TempDir()
	if r := p.run(t, "post-build.sh", true, target); r.code != 0 {
		t.Fatalf("post-build.sh: exit %d: %s", r.code, r.stderr)
	}
	if got := strings.TrimSpace(readFile(t, record)); got != filepath.Join(target, "etc/ssl/certs") {
		t.Errorf("c_rehash called with %q", got)
	}
	// OpenSSL looks the CA up by its subject hash; c_rehash may add the
	// old MD5-based one too.
	hash, err := exec.Command("openssl", "x509", "-hash", "-noout", "-in", ca.Cert).Output()
	if err != nil {
		t.Fatal(err)
	}
	pem := strings.TrimSuffix(filepath.Base(res.Added[0].File), ".crt") + ".pem"
	if link, err := os.Readlink(filepath.Join(target, "etc/ssl/certs", strings.TrimSpace(string(hash))+".0")); err != nil || link != pem {
		t.Errorf("hash link: %q, %v; want one to %s", link, err, pem)
	}
	if got := readFile(t, filepath.Join(target, "etc/ssl/certs/ca-certificates.crt")); strings.Count(got, "BEGIN CERTIFICATE") != 1 {
		t.Errorf("bundle:\n%s", got)
	}
}

// Certificates without the agent's configuration (someone deleted it):
// the build stops and says how to get it back.
func TestPostBuildRefusesCertificatesWithoutConfiguration(t *testing.T) {
	o := testenv.NewOpenSSL(t)
	p := newProject(t)
	writeFile(t, filepath.Join(p.root, cacert.DirName, "0123456789abcdef.crt"), readFile(t, o.CA("A CA").Cert), 0o644)
	target := t.TempDir()
	if r := p.run(t, "post-build.sh", true, target); r.code != 1 || !strings.Contains(r.stderr, "has certificates but no ironic-python-agent.conf") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}
