// Package cachekey implements `ipabr cache-key`: stable keys for CI caches
// of dl/, ccache/ and output directories.
package cachekey

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ipabr/ipabr/internal/cachekey"
	"github.com/ipabr/ipabr/internal/cmdutil"
	"github.com/ipabr/ipabr/internal/errs"
	"github.com/ipabr/ipabr/internal/gitsub"
)

// Options are cache-key's inputs.
type Options struct {
	Factory *cmdutil.Factory
	For     string
	Explain bool
	JSON    bool
}

// NewCmdCacheKey builds the command; runF replaces runCacheKey in tests.
func NewCmdCacheKey(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Factory: f}
	cmd := &cobra.Command{
		Use:   "cache-key",
		Short: "Print stable keys for CI caches of dl/, ccache/ and output directories",
		Long: `Print a key that changes exactly when what determines a cache changes, for
CI caches (GitHub Actions cache, GitLab cache:key):

  dl      the Buildroot pin (gitlink), the defconfig, the external tree's
          packages (IPA locks included) and its .hash files
  ccache  dl's inputs, the global patch directory and the kernel, BusyBox and
          toolchain configuration files the defconfig names
  output  the pin, the defconfig, the whole external tree, overlay/ and
          scripts/

The defconfig is the configured one (key defconfig, env IPABR_DEFCONFIG). Keys
look like ipabr-dl-<32 hex digits>; a CI cache restores by the exact key first
and falls back to the newest cache whose key starts with ipabr-dl-. Without
--for, all three are printed as "KIND KEY" lines. --explain lists each input
with its sha256, to see why a key changed.`,
		Example: `  ipabr cache-key --for dl
  ipabr cache-key --explain --for ccache
  echo "key=$(ipabr cache-key --for ccache)" >> "$GITHUB_OUTPUT"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runCacheKey(opts)
		},
	}
	cmd.Flags().StringVar(&opts.For, "for", "", "the cache: dl, ccache or output (default: all three)")
	cmd.Flags().BoolVar(&opts.Explain, "explain", false, "list what each key was computed from")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the keys and their inputs as JSON")
	return cmd
}

func runCacheKey(opts *Options) error {
	f := opts.Factory
	kinds := cachekey.Kinds
	if opts.For != "" {
		known := false
		for _, k := range cachekey.Kinds {
			known = known || k == opts.For
		}
		if !known {
			return errs.BadInputf("--for must be one of %s, not %q", strings.Join(cachekey.Kinds, ", "), opts.For)
		}
		kinds = []string{opts.For}
	}
	s, err := f.Settings()
	if err != nil {
		return err
	}
	sub, err := gitsub.Read(s.Project.Root)
	if err != nil {
		return errs.BadInputf("%v", err)
	}
	var keys []*cachekey.Key
	for _, k := range kinds {
		key, err := cachekey.Compute(opts.Factory.Context, k, cachekey.Options{Project: s.Project, Pin: sub.Commit.String(), Defconfig: s.Defconfig})
		if err != nil {
			return errs.BadInputf("cache key for %s: %v", k, err)
		}
		keys = append(keys, key)
	}
	w := f.IOStreams.Out
	if opts.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(keys)
	}
	for _, key := range keys {
		if opts.For != "" {
			fmt.Fprintln(w, key.Key)
		} else {
			fmt.Fprintf(w, "%-6s %s\n", key.Kind, key.Key)
		}
		if opts.Explain {
			for _, in := range key.Inputs {
				fmt.Fprintf(w, "  %s  %s\n", in.Sum[:16], in.Name)
			}
		}
	}
	return nil
}
