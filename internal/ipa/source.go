package ipa

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/gitsub"
	"github.com/ipabr/ipabr/internal/lazyregexp"
)

// The OpenStack repositories the lock reads by default.
const (
	DefaultRequirementsURL = "https://opendev.org/openstack/ironic-python-agent.git"
	DefaultConstraintsURL  = "https://opendev.org/openstack/requirements.git"
	DefaultIndexURL        = "https://pypi.org/simple"
)

// The files read from them.
const (
	RequirementsPath = "requirements.txt"
	ConstraintsPath  = "upper-constraints.txt"
)

// UnknownSeriesError is a series whose branch a repository lacks.
type UnknownSeriesError struct {
	Series string
	URL    string
	Known  []string // the series the repository has, when it could list them
}

// ErrorKind: a series that does not exist is bad input.
func (e *UnknownSeriesError) ErrorKind() errs.Kind { return errs.BadInput }

func (e *UnknownSeriesError) Error() string {
	msg := fmt.Sprintf("no OpenStack series %q in %s (no branch %s)", e.Series, e.URL, Branch(e.Series))
	if len(e.Known) > 0 {
		msg += "; series there: " + strings.Join(e.Known, ", ")
	}
	return msg
}

// UnknownRefError is a --ipa-source ref the repository does not have.
type UnknownRefError struct{ URL, Ref string }

// ErrorKind: a ref that does not exist is bad input.
func (e *UnknownRefError) ErrorKind() errs.Kind { return errs.BadInput }

func (e *UnknownRefError) Error() string {
	return fmt.Sprintf("%s has no branch or tag %q (name a branch, a tag, a full ref such as refs/changes/45/123445/3, or a commit id)", e.URL, e.Ref)
}

// UnreachableError is a repository or index that did not answer.
type UnreachableError struct {
	What string // "git repository", "package index", ...
	URL  string
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the %s %s: %v", e.What, e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// IsTemplate reports whether a source URL is a plain file URL with
// {series} or {branch} placeholders rather than a git repository.
func IsTemplate(url string) bool {
	return strings.Contains(url, "{series}") || strings.Contains(url, "{branch}")
}

func expand(url, series string) string {
	return strings.NewReplacer("{series}", series, "{branch}", Branch(series)).Replace(url)
}

// SeriesFile is a file read from one series of an OpenStack repository.
type SeriesFile struct {
	Data   []byte
	URL    string // the repository (or the file's URL for templates)
	Commit string // the branch tip it was read from; "" over plain HTTP(S)
	// Release is the newest release tag on the branch (IPA's version for the
	// series), when asked for and found.
	Release string
}

// FetchOptions tune FetchSeriesFile.
type FetchOptions struct {
	// Release also finds the newest release tag on the branch, deepening
	// the shallow history up to MaxDepth commits.
	Release  bool
	MaxDepth int
	HTTP     *http.Client
}

// FetchSeriesFile reads path from the series' branch of the repository at
// url: over git (go-git, shallow, in memory) or, for a URL with {series} or
// {branch}, over HTTP(S).
func FetchSeriesFile(ctx context.Context, url, series, path string, o FetchOptions) (*SeriesFile, error) {
	if err := ValidateSeries(series); err != nil {
		return nil, err
	}
	if IsTemplate(url) {
		return fetchHTTPFile(ctx, o.HTTP, url, series)
	}
	return fetchGitFile(ctx, url, series, path, o)
}

func fetchHTTPFile(ctx context.Context, c *http.Client, tmpl, series string) (*SeriesFile, error) {
	url := expand(tmpl, series)
	data, status, err := httpGet(ctx, c, url)
	if err != nil {
		return nil, &UnreachableError{What: "server", URL: url, Err: err}
	}
	if status == http.StatusNotFound {
		return nil, &UnknownSeriesError{Series: series, URL: url}
	}
	if status != http.StatusOK {
		return nil, &UnreachableError{What: "server", URL: url, Err: fmt.Errorf("HTTP %d", status)}
	}
	return &SeriesFile{Data: data, URL: url}, nil
}

func httpGet(ctx context.Context, c *http.Client, url string) ([]byte, int, error) {
	if c == nil {
		c = &http.Client{Timeout: 60 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	return data, resp.StatusCode, err
}

// listRefs lists a remote's references (tags peeled).
func listRefs(ctx context.Context, url string) ([]*plumbing.Reference, error) {
	remote := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{url}})
	refs, err := remote.ListContext(ctx, &git.ListOptions{PeelingOption: git.AppendPeeled})
	if err != nil {
		return nil, gitUnreachable(url, err)
	}
	return refs, nil
}

func gitUnreachable(url string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var fe *gitsub.FetchError
	if errors.As(err, &fe) {
		err = fe.Err
	}
	if errors.Is(err, transport.ErrRepositoryNotFound) {
		return &UnreachableError{What: "git repository", URL: url, Err: errors.New("no repository there")}
	}
	return &UnreachableError{What: "git repository", URL: url, Err: err}
}

// SeriesOf lists the series a repository has branches for (stable/* and
// master), sorted.
func SeriesOf(refs []*plumbing.Reference) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range refs {
		name := r.Name().String()
		s, ok := strings.CutPrefix(name, "refs/heads/stable/")
		if !ok && name == "refs/heads/"+Master {
			s, ok = Master, true
		}
		if ok && !seen[s] && ValidateSeries(s) == nil {
			seen[s] = true
			out = append(out, s)
		}
	}
	SortSeries(out)
	return out
}

func fetchGitFile(ctx context.Context, url, series, path string, o FetchOptions) (*SeriesFile, error) {
	refs, err := listRefs(ctx, url)
	if err != nil {
		return nil, err
	}
	branch := plumbing.NewBranchReferenceName(Branch(series))
	var tip plumbing.Hash
	for _, r := range refs {
		if r.Name() == branch {
			tip = r.Hash()
		}
	}
	if tip.IsZero() {
		return nil, &UnknownSeriesError{Series: series, URL: url, Known: SeriesOf(refs)}
	}
	repo, err := git.Init(memory.NewStorage(), nil)
	if err != nil {
		return nil, err
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{url}}); err != nil {
		return nil, err
	}
	spec := config.RefSpec(fmt.Sprintf("+%s:refs/remotes/origin/%s", branch, Branch(series)))
	if err := shallowFetch(ctx, repo, url, spec, 1); err != nil {
		return nil, err
	}
	commit, err := repo.CommitObject(tip)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %v", url, branch.Short(), err)
	}
	file, err := commit.File(path)
	if err != nil {
		return nil, fmt.Errorf("%s has no %s on %s (commit %s)", url, path, branch.Short(), tip)
	}
	text, err := file.Contents()
	if err != nil {
		return nil, err
	}
	res := &SeriesFile{Data: []byte(text), URL: url, Commit: tip.String()}
	if o.Release {
		maxDepth := o.MaxDepth
		if maxDepth == 0 {
			maxDepth = 1024
		}
		res.Release, err = newestTag(ctx, repo, url, spec, tip, refs, maxDepth)
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

// shallowFetch fetches spec at depth (0: full history) the way gitsub
// fetches, naming an unreachable repository as such.
func shallowFetch(ctx context.Context, repo *git.Repository, url string, spec config.RefSpec, depth int) error {
	if err := gitsub.Fetch(ctx, repo, url, depth, nil, spec); err != nil {
		return gitUnreachable(url, err)
	}
	return nil
}

// releaseTagRE matches IPA's release tags (X.Y.Z), not the end-of-life
// markers (2023.1-eol) or anything else.
var releaseTagRE = lazyregexp.New(`^[0-9]+\.[0-9]+\.[0-9]+$`)

// tagsByCommit maps commits to the release tags pointing at them.
func tagsByCommit(refs []*plumbing.Reference) map[plumbing.Hash][]string {
	direct := map[string]plumbing.Hash{}
	peeled := map[string]plumbing.Hash{}
	for _, r := range refs {
		name, ok := strings.CutPrefix(r.Name().String(), "refs/tags/")
		if !ok {
			continue
		}
		if base, ok := strings.CutSuffix(name, "^{}"); ok {
			peeled[base] = r.Hash()
		} else {
			direct[name] = r.Hash()
		}
	}
	out := map[plumbing.Hash][]string{}
	for name, h := range direct {
		if !releaseTagRE.MatchString(name) {
			continue
		}
		if p, ok := peeled[name]; ok {
			h = p
		}
		out[h] = append(out[h], name)
	}
	return out
}

// newestTag finds the release tag nearest to tip in the branch's history,
// deepening the shallow fetch step by step up to max commits.
func newestTag(ctx context.Context, repo *git.Repository, url string, spec config.RefSpec, tip plumbing.Hash, refs []*plumbing.Reference, maxDepth int) (string, error) {
	tags := tagsByCommit(refs)
	if len(tags) == 0 {
		return "", nil
	}
	var tag string
	_, _, err := gitsub.Deepen(ctx, repo, url, spec, 8, maxDepth, nil, func() bool {
		var complete bool
		tag, complete = nearestTag(repo, tip, tags)
		return tag != "" || complete
	})
	if err != nil {
		return "", gitUnreachable(url, err)
	}
	return tag, nil
}

// nearestTag walks history from tip breadth-first and returns the highest
// release tag of the first tagged commit; complete is true when the walk
// reached the root rather than the shallow boundary.
func nearestTag(repo *git.Repository, tip plumbing.Hash, tags map[plumbing.Hash][]string) (tag string, complete bool) {
	seen := map[plumbing.Hash]bool{tip: true}
	queue := []plumbing.Hash{tip}
	complete = true
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		if names := tags[h]; len(names) > 0 {
			sort.Slice(names, func(i, j int) bool { return VersionLess(names[i], names[j]) })
			return names[len(names)-1], complete
		}
		c, err := repo.CommitObject(h)
		if err != nil {
			complete = false // the shallow boundary
			continue
		}
		for _, p := range c.ParentHashes {
			if !seen[p] {
				seen[p] = true
				if _, err := repo.CommitObject(p); err != nil {
					complete = false
					continue
				}
				queue = append(queue, p)
			}
		}
	}
	return "", complete
}

// VersionLess compares dotted numeric versions: 22.10 comes after 22.9.
func VersionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			return x < y
		}
	}
	return len(as) < len(bs)
}

// Checkout is a git source checked out on disk.
type Checkout struct {
	Dir    string
	Commit string
	// Time is the commit's time: builds from it are stamped with it
	// (SOURCE_DATE_EPOCH), so that the same commit gives the same wheel.
	Time time.Time
	// Version is a PEP 440 version for a build from this commit: the
	// nearest release tag, or the next patch release as .devN after it.
	Version string
}

var commitRE = lazyregexp.New(`^[0-9a-f]{40}$`)

// CheckoutSource fetches ref (a branch, tag, full ref such as Gerrit's
// refs/changes/..., or a full commit id) of the repository at url into
// dir, shallowly, and checks it out with a .git directory (pbr reads it).
func CheckoutSource(ctx context.Context, url, ref, dir string) (*Checkout, error) {
	refs, err := listRefs(ctx, url)
	if err != nil {
		return nil, err
	}
	var want string
	switch {
	case commitRE.MatchString(ref):
		want = ref
	case strings.HasPrefix(ref, "refs/"):
		want = ref
	default:
		for _, r := range refs {
			if r.Name() == plumbing.NewBranchReferenceName(ref) || r.Name() == plumbing.NewTagReferenceName(ref) {
				want = r.Name().String()
				break
			}
		}
	}
	if want == "" {
		return nil, &UnknownRefError{URL: url, Ref: ref}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		return nil, err
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{url}}); err != nil {
		return nil, err
	}
	const local = "refs/ipabr/source"
	spec := config.RefSpec("+" + want + ":" + local) // deepened below for the version
	var commit plumbing.Hash
	if commitRE.MatchString(want) {
		// By id, or as gitsub finds a commit a server refuses to serve so.
		commit = plumbing.NewHash(want)
		if _, err := gitsub.FetchCommit(ctx, repo, url, commit, gitsub.CommitOptions{Depth: 1, Ref: local}); err != nil {
			var nr *gitsub.NotReachableError
			if errors.As(err, &nr) {
				return nil, errs.BadInputf("%w; name a branch, tag or ref", err)
			}
			return nil, gitUnreachable(url, err)
		}
		if _, err := repo.Reference(local, true); err != nil {
			spec = "+refs/heads/*:refs/remotes/origin/*" // it came with the branches' history
		}
	} else {
		if err := shallowFetch(ctx, repo, url, spec, 1); err != nil {
			return nil, err
		}
		r, err := repo.Reference(local, true)
		if err != nil {
			return nil, fmt.Errorf("%s: %s did not arrive: %v", url, ref, err)
		}
		commit = r.Hash()
		// An annotated tag: its commit.
		if tag, err := repo.TagObject(commit); err == nil {
			c, err := tag.Commit()
			if err != nil {
				return nil, fmt.Errorf("%s: tag %s: %v", url, ref, err)
			}
			commit = c.Hash
		}
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, err
	}
	if err := wt.Checkout(&git.CheckoutOptions{Hash: commit, Force: true}); err != nil {
		return nil, fmt.Errorf("checking out %s: %v", ref, err)
	}
	co := &Checkout{Dir: dir, Commit: commit.String()}
	if c, err := repo.CommitObject(commit); err == nil {
		co.Time = c.Committer.When
	}
	tags := tagsByCommit(refs)
	co.Version = "0.0.1.dev0"
	// The nearest tag may be deeper than the fetched history; without one
	// within 512 commits the version stays 0.0.1.dev0.
	_, _, _ = gitsub.Deepen(ctx, repo, url, spec, 8, 512, nil, func() bool {
		tag, dist, ok := tagDistance(repo, commit, tags)
		if ok {
			co.Version = devVersion(tag, dist)
		}
		return ok
	})
	return co, nil
}

// tagDistance is the nearest release tag and the number of commits since.
func tagDistance(repo *git.Repository, tip plumbing.Hash, tags map[plumbing.Hash][]string) (string, int, bool) {
	type item struct {
		h    plumbing.Hash
		dist int
	}
	seen := map[plumbing.Hash]bool{tip: true}
	queue := []item{{tip, 0}}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if names := tags[it.h]; len(names) > 0 {
			sort.Slice(names, func(i, j int) bool { return VersionLess(names[i], names[j]) })
			return names[len(names)-1], it.dist, true
		}
		c, err := repo.CommitObject(it.h)
		if err != nil {
			continue
		}
		for _, p := range c.ParentHashes {
			if !seen[p] {
				seen[p] = true
				queue = append(queue, item{p, it.dist + 1})
			}
		}
	}
	return "", 0, false
}

// devVersion is pbr's version for a commit dist commits after tag.
func devVersion(tag string, dist int) string {
	if dist == 0 {
		return tag
	}
	parts := strings.Split(tag, ".")
	n, _ := strconv.Atoi(parts[len(parts)-1])
	parts[len(parts)-1] = strconv.Itoa(n + 1)
	return fmt.Sprintf("%s.dev%d", strings.Join(parts, "."), dist)
}
