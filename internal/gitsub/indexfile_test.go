package gitsub

import (
	"bytes"
	"crypto/sha1"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/format/index"

	"github.com/ipabr/ipabr/internal/testenv"
)

// indexKinds are index files real git wrote, one per feature of the
// format: each version, extended flags, conflict stages, a name longer
// than the 12-bit length field, entries without stat data and the
// optional extensions git adds (cache tree, resolve-undo, end of entries,
// offset table, untracked cache).
func indexKinds(t testing.TB) map[string][]byte {
	dir := statusRepo(t)
	git := func(args ...string) {
		if _, err := testenv.Git(dir, args...); err != nil {
			t.Fatal(err)
		}
	}
	snapshot := func() []byte {
		data, err := os.ReadFile(filepath.Join(dir, ".git", "index"))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	kinds := map[string][]byte{}
	kinds["v2 with a cache tree"] = snapshot()

	blob := gitT(t, dir, "rev-parse", "HEAD:README")
	long := strings.Repeat("d/", 2100) + "long-name"
	git("update-index", "--add", "--cacheinfo", "100644,"+blob+","+long)
	kinds["v2 with a long name and no stat data"] = snapshot()

	testenv.WriteFile(t, filepath.Join(dir, "NEWS"), "news\n")
	git("add", "-N", "NEWS")
	git("update-index", "--skip-worktree", "README")
	kinds["v3 with intent-to-add and skip-worktree"] = snapshot()

	git("update-index", "--index-version", "4")
	kinds["v4"] = snapshot()

	git("-c", "index.threads=2", "-c", "index.recordEndOfIndexEntries=true", "-c", "index.recordOffsetTable=true",
		"update-index", "--index-version", "2", "--untracked-cache", "--force-write-index")
	kinds["v3 with end of entries, offset table and untracked cache"] = snapshot()

	git("update-index", "--no-skip-worktree", "README")
	git("reset", "-q")
	git("checkout", "-q", "-b", "other")
	testenv.WriteFile(t, filepath.Join(dir, "README"), "other\n")
	git("commit", "-qam", "other")
	git("checkout", "-q", "main")
	testenv.WriteFile(t, filepath.Join(dir, "README"), "main\n")
	git("commit", "-qam", "main")
	if _, err := testenv.Git(dir, "merge", "-q", "other"); err == nil {
		t.Fatal("the merge was meant to conflict")
	}
	kinds["conflict stages"] = snapshot()
	git("add", "README")
	kinds["resolve-undo"] = snapshot()
	return kinds
}

// TestReadIndexMatchesGoGit: ipabr's index reader gives the same entries
// as go-git's decoder on every kind of index real git writes.
func TestReadIndexMatchesGoGit(t *testing.T) {
	// What each kind must hold for the comparison to cover it.
	extensions := map[string][]string{
		"v2 with a cache tree": {"TREE"},
		"v3 with end of entries, offset table and untracked cache": {"EOIE", "IEOT", "UNTR"},
		"resolve-undo": {"REUC"},
	}
	for name, data := range indexKinds(t) {
		t.Run(name, func(t *testing.T) {
			ours, err := decodeIndex(data)
			if err != nil {
				t.Fatal(err)
			}
			if v, ok := strings.CutPrefix(name, "v"); ok && v[:1] != strconv.Itoa(int(ours.Version)) {
				t.Errorf("git wrote version %d", ours.Version)
			}
			for _, sig := range extensions[name] {
				if !bytes.Contains(data, []byte(sig)) {
					t.Errorf("git wrote no %s extension", sig)
				}
			}
			if name == "conflict stages" && !slices.ContainsFunc(ours.Entries, func(e *index.Entry) bool { return e.Stage != stageMerged }) {
				t.Error("no entry has a conflict stage")
			}
			var theirs index.Index
			if err := index.NewDecoder(bytes.NewReader(data)).Decode(&theirs); err != nil {
				t.Fatal(err)
			}
			if ours.Version != theirs.Version || len(ours.Entries) != len(theirs.Entries) {
				t.Fatalf("version %d with %d entries, go-git reads version %d with %d", ours.Version, len(ours.Entries), theirs.Version, len(theirs.Entries))
			}
			for i := range ours.Entries {
				if !reflect.DeepEqual(ours.Entries[i], theirs.Entries[i]) {
					t.Errorf("entry %d:\n ours   %+v\n go-git %+v", i, ours.Entries[i], theirs.Entries[i])
				}
			}
			// Looking one entry up finds the first entry of that name, and
			// a directory's files under it.
			file := filepath.Join(t.TempDir(), "index")
			if err := os.WriteFile(file, data, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, want := range theirs.Entries {
				got, _, err := readIndexEntry(file, want.Name)
				first, _ := theirs.Entry(want.Name)
				if err != nil || !reflect.DeepEqual(got, first) {
					t.Errorf("looking up %s: %+v (%v), want %+v", want.Name, got, err, first)
				}
			}
			if e, under, err := readIndexEntry(file, "package"); e != nil || !under || err != nil {
				t.Errorf("looking up the directory package: %v, under %v (%v)", e, under, err)
			}
		})
	}
}

// TestReadIndexRefuses: what would make the entries mean something else,
// and damage, is an error that says so.
func TestReadIndexRefuses(t *testing.T) {
	dir := statusRepo(t)
	gitT(t, dir, "update-index", "--split-index")
	split, err := os.ReadFile(filepath.Join(dir, ".git", "index"))
	if err != nil {
		t.Fatal(err)
	}
	good := indexKinds(t)["v4"]
	torn := bytes.Clone(good)
	torn[len(torn)/2] ^= 1
	mandatory := withChecksum(append(bytes.Clone(good[:len(good)-sha1.Size]), "abcd\x00\x00\x00\x00"...))
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"split index", split, "git update-index --no-split-index"},
		{"a flipped bit", torn, "checksum mismatch"},
		{"cut short", good[:len(good)-30], "checksum mismatch"},
		{"an unknown mandatory extension", mandatory, `extension "abcd"`},
		{"not an index", withChecksum([]byte("PACK\x00\x00\x00\x02\x00\x00\x00\x00")), "no index header"},
		{"version 5", withChecksum([]byte("DIRC\x00\x00\x00\x05\x00\x00\x00\x00")), "version 5 is not supported"},
		{"more entries than bytes", withChecksum([]byte("DIRC\x00\x00\x00\x02\xff\xff\xff\xff")), "do not fit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeIndex(c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

// withChecksum appends the trailing SHA-1 an index file ends with.
func withChecksum(body []byte) []byte {
	sum := sha1.Sum(body)
	return append(body, sum[:]...)
}

// FuzzDecodeIndex: on any bytes (with a valid checksum, so the entries
// are reached), ipabr's reader does not panic, and where go-git's decoder
// reads entries ipabr either reads the same or refuses an extension.
func FuzzDecodeIndex(f *testing.F) {
	for _, data := range indexKinds(f) {
		f.Add(data[:len(data)-sha1.Size])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		data := withChecksum(bytes.Clone(body))
		ours, err := decodeIndex(data)
		var theirs index.Index
		theirsErr := func() (err error) {
			defer func() {
				if recover() != nil {
					err = errMalformedIndex
				}
			}()
			return index.NewDecoder(bytes.NewReader(data)).Decode(&theirs)
		}()
		if err != nil || theirsErr != nil {
			return
		}
		if !reflect.DeepEqual(ours.Entries, theirs.Entries) && !(len(ours.Entries) == 0 && len(theirs.Entries) == 0) {
			t.Fatalf("entries differ from go-git's:\n ours   %+v\n go-git %+v", ours.Entries, theirs.Entries)
		}
	})
}
