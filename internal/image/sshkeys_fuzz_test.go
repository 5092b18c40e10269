package image

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ipabr/ipabr/internal/errs"

	"golang.org/x/crypto/ssh"
)

// FuzzParseAuthorizedKeys feeds arbitrary authorized_keys / .pub input (what
// a user hands `ipabr sshkey add`) to the parser. Accepted keys must come
// back unchanged from the line ipabr writes for them into the overlay, and a
// refusal must name a line of the input.
func FuzzParseAuthorizedKeys(f *testing.F) {
	pub, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize)).Public())
	if err != nil {
		f.Fatal(err)
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	for _, s := range []string{
		line + " alice@laptop\n",
		"# keys\n\n" + line + "\r\n" + line + " bob\n",
		`from="10.0.0.0/8",no-pty,command="echo \"hi\"" ` + line + " ops key\n",
		"---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n---- END SSH2 PUBLIC KEY ----\n",
		"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
		"ssh-ed25519 AAAAnotbase64 x\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseAuthorizedKeys(data)
		if err != nil {
			if !errs.Is(err, errs.BadInput) {
				t.Fatalf("refusal is not bad input: %v", err)
			}
			var le *KeyLineError
			if errors.As(err, &le) && (le.Line < 1 || le.Line > bytes.Count(data, []byte{'\n'})+1) {
				t.Fatalf("refusal names line %d of a %d-line input", le.Line, bytes.Count(data, []byte{'\n'})+1)
			}
			return
		}
		for _, k := range keys {
			written := k.String()
			if strings.ContainsAny(written, "\n") {
				t.Fatalf("the line written for a key spans lines: %q", written)
			}
			back, err := ParseAuthorizedKeys([]byte(written + "\n"))
			if err != nil {
				t.Fatalf("the line written for a key is refused: %q: %v", written, err)
			}
			if len(back) != 1 {
				t.Fatalf("%q parses as %d keys", written, len(back))
			}
			b := back[0]
			if b.Fingerprint() != k.Fingerprint() || b.Comment != k.Comment || !reflect.DeepEqual(b.Options, k.Options) {
				t.Fatalf("key changed on the way through the file:\nparsed  %q %q %q\nwritten %q\nread    %q %q %q",
					k.Fingerprint(), k.Options, k.Comment, written, b.Fingerprint(), b.Options, b.Comment)
			}
		}
	})
}
