package ipa

import (
	"strings"
	"testing"
)

// FuzzParseReport: pip's installation report (JSON from `pip install
// --dry-run --report`) is the outside input of `ipabr ipa lock`; the
// requirements and upper-constraints lines themselves are parsed by pip.
// Whatever the report says, an accepted entry has a name, a version and a
// URL, and a hash only when the report gave one.
func FuzzParseReport(f *testing.F) {
	f.Add([]byte(`{"version": "1", "environment": {"python_version": "3.14"}, "install": [{"download_info": {"url": "https://files.example/p/pbr-6.1.1-py2.py3-none-any.whl",
		"archive_info": {"hash": "sha256=abc", "hashes": {"sha256": "abc"}}}, "requested": true,
		"metadata": {"name": "pbr", "version": "6.1.1", "license_expression": "Apache-2.0", "classifier": ["License :: OSI Approved"]}}]}`))
	f.Add([]byte(`{"version": "0", "environment": {"python_version": "3.14"}, "install": [{"download_info": {"url": "x", "archive_info": {"hash": "md5=1"}}, "metadata": {"name": "a", "version": "1", "license": ["not", "a", "string"]}}]}`))
	f.Add([]byte(`{"version": "2"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseReport(data, "3.14")
		if err != nil {
			return
		}
		for _, r := range rs {
			if r.Name == "" || r.Version == "" || r.URL == "" {
				t.Fatalf("accepted an entry without name, version or URL: %+v", r)
			}
			if r.SHA256 != "" && !strings.Contains(string(data), r.SHA256) && !strings.Contains(string(data), `\`) {
				t.Fatalf("a hash the report does not contain: %+v", r)
			}
		}
	})
}
