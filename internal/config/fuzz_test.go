package config

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/viper"
)

// FuzzValidateYAML feeds arbitrary ipabr.yaml content to the validation
// that runs before viper reads the file. What it accepts, viper must read,
// and every key viper then sees must be one of the table's; what it refuses
// is reported against the file's path (with a line where there is one).
func FuzzValidateYAML(f *testing.F) {
	for _, s := range []string{
		"",
		"output: output\nbuildroot:\n  url: https://mirror.example.com/buildroot.git\n",
		"defconfig: openstack_ipa_defconfig\ncolor: never\ndl_dir: /srv/dl\n",
		"ccache:\n  remote_storage: redis://cache:6379\ndownload:\n  primary_site: http://mirror/br\n  primary_site_only: true\n",
		"output: a\noutput: b\n", // viper refuses duplicate keys; validateYAML names both lines
		"buildroot:\n  url: a\nbuildroot:\n  path: b\n",
		"buildroot.url: x\n",
		"a: &x 1\nb: *x\n",
		"<<: {output: x}\n",
		"color: blue\n",
		"- a\n- b\n",
		"buildroot: [1, 2]\n",
		"? [a]\n: 1\n",
		"\t",
		"download:\n  primary_site_only: maybe\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const path = "/p/ipabr.yaml"
		_, err := validateYAML(path, data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), path) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		v := viper.New()
		v.SetConfigType("yaml")
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			t.Fatalf("validateYAML accepted what viper cannot read: %v\n%q", err, data)
		}
		for _, k := range v.AllKeys() {
			if _, ok := Lookup(k); !ok {
				t.Fatalf("validateYAML accepted unknown key %q in %q", k, data)
			}
		}
	})
}
