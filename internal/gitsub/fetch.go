package gitsub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
)

// FetchError is a repository that could not be fetched from.
type FetchError struct {
	URL string
	Err error
}

func (e *FetchError) Error() string { return fmt.Sprintf("fetching from %s: %v", e.URL, e.Err) }
func (e *FetchError) Unwrap() error { return e.Err }

// NotReachableError is a commit that none of a repository's refs leads to.
type NotReachableError struct {
	Commit plumbing.Hash
	Where  string // "all branches", "branch main"
	URL    string
}

func (e *NotReachableError) Error() string {
	return fmt.Sprintf("commit %s is not reachable from %s of %s", e.Commit, e.Where, e.URL)
}

// Fetch fetches specs from url into r at depth (0: the whole history),
// without tags. A server that does not serve shallow fetches (it does not
// advertise the shallow capability) gets a full one.
func Fetch(ctx context.Context, r *git.Repository, url string, depth int, progress io.Writer, specs ...config.RefSpec) error {
	if depth > 0 {
		shallow, err := servesShallow(ctx, url)
		if err != nil {
			return fetchError(ctx, url, err)
		}
		if !shallow {
			depth = 0
		}
	}
	err := r.FetchContext(ctx, &git.FetchOptions{
		RemoteURL: url,
		RefSpecs:  specs,
		Depth:     depth,
		Tags:      git.NoTags,
		Progress:  progress,
		Force:     true,
	})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fetchError(ctx, url, err)
	}
	return nil
}

// fetchError is err as a *FetchError, or the cancellation that caused it
// (go-git and net/http report it as the context's cause, in words only).
func fetchError(ctx context.Context, url string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return &FetchError{URL: url, Err: err}
}

// servesShallow asks the server whether it serves shallow fetches.
func servesShallow(ctx context.Context, url string) (bool, error) {
	ep, err := transport.NewEndpoint(url)
	if err != nil {
		return false, err
	}
	c, err := client.NewClient(ep)
	if err != nil {
		return false, err
	}
	s, err := c.NewUploadPackSession(ep, nil)
	if err != nil {
		return false, err
	}
	defer s.Close()
	ar, err := s.AdvertisedReferencesContext(ctx)
	if err != nil {
		return false, err
	}
	return ar.Capabilities.Supports(capability.Shallow), nil
}

// CommitOptions tune FetchCommit.
type CommitOptions struct {
	Depth    int    // commits of history to fetch with the commit, ≥ 1
	Branch   string // the branch whose history may hold it; "" or ".": all
	Ref      string // the local ref that keeps the fetched commit
	Progress io.Writer
}

// FetchCommit is the one way ipabr fetches a commit by its id (the
// Buildroot pin, an IPA source commit): exactly by id when the server
// allows it, otherwise a tag or branch that points at it, otherwise the
// branches' history ever deeper (64 commits, then four times more each
// time, then all of it) until the commit arrives. It returns how the
// commit came; a *NotReachableError when no ref leads to it.
func FetchCommit(ctx context.Context, r *git.Repository, url string, commit plumbing.Hash, o CommitOptions) (string, error) {
	have := func() bool { _, err := r.CommitObject(commit); return err == nil }
	fetch := func(depth int, spec string) error {
		return Fetch(ctx, r, url, depth, o.Progress, config.RefSpec(spec))
	}

	err := fetch(o.Depth, fmt.Sprintf("+%s:%s", commit, o.Ref))
	if err == nil && have() {
		return fmt.Sprintf("commit %s, depth %d", short(commit), o.Depth), nil
	}
	if err != nil && !errors.Is(err, git.ErrExactSHA1NotSupported) {
		return "", err
	}

	// The server refuses wants by commit id: find a ref that points at it.
	remote := git.NewRemote(r.Storer, &config.RemoteConfig{Name: "ipabr-probe", URLs: []string{url}})
	refs, err := remote.ListContext(ctx, &git.ListOptions{PeelingOption: git.AppendPeeled})
	if err != nil {
		return "", fetchError(ctx, url, err)
	}
	sort.SliceStable(refs, func(i, j int) bool {
		return refs[i].Name().IsTag() && !refs[j].Name().IsTag()
	})
	for _, ref := range refs {
		name := strings.TrimSuffix(ref.Name().String(), "^{}")
		if ref.Hash() != commit || !(strings.HasPrefix(name, "refs/tags/") || strings.HasPrefix(name, "refs/heads/")) {
			continue
		}
		if err := fetch(o.Depth, fmt.Sprintf("+%s:%s", name, o.Ref)); err != nil {
			return "", err
		}
		if have() {
			return fmt.Sprintf("%s, depth %d (server refuses commit ids)", plumbing.ReferenceName(name).Short(), o.Depth), nil
		}
	}

	// No ref points at it: deepen the branch history until it appears.
	spec, what := "+refs/heads/*:refs/remotes/origin/*", "all branches"
	if o.Branch != "" && o.Branch != "." {
		spec, what = fmt.Sprintf("+refs/heads/%s:refs/remotes/origin/%s", o.Branch, o.Branch), "branch "+o.Branch
	}
	d, found, err := Deepen(ctx, r, url, config.RefSpec(spec), max(o.Depth, 64), 0, o.Progress, have)
	if err != nil {
		return "", err
	}
	if !found {
		return "", &NotReachableError{Commit: commit, Where: what, URL: url}
	}
	return fmt.Sprintf("%s, depth %d (server refuses commit ids)", what, d), nil
}

// Deepen is the one way ipabr digs into history it fetched shallowly: it
// fetches spec again at depth start, then four times deeper each time,
// until found reports true. It stops at limit commits, or, with limit 0,
// after fetching the whole history (reported as depth 0). found is asked
// once before anything is fetched. It returns the depth it stopped at.
func Deepen(ctx context.Context, r *git.Repository, url string, spec config.RefSpec, start, limit int, progress io.Writer, found func() bool) (int, bool, error) {
	if found() {
		return 0, true, nil
	}
	for depth := max(start, 1); ; depth *= 4 {
		last := limit > 0 && depth >= limit || limit == 0 && depth > 1<<20
		d := depth
		switch {
		case limit > 0 && depth >= limit:
			d = limit
		case limit == 0 && last:
			d = 0
		}
		if err := Fetch(ctx, r, url, d, progress, spec); err != nil {
			return d, false, err
		}
		if found() {
			return d, true, nil
		}
		if last {
			return d, false, nil
		}
	}
}
