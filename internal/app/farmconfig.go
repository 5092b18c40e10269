package app

import (
	"fmt"
	"strconv"

	"github.com/ipabr/ipabr/internal/buildroot"
	"github.com/ipabr/ipabr/internal/ccache"
	"github.com/ipabr/ipabr/internal/cmdutil"
)

// validateFarmValue checks the value of a build-farm key (doc/farm.md);
// other keys pass.
func validateFarmValue(key, value string) error {
	switch key {
	case "ccache.remote_storage":
		if err := ccache.ValidateRemoteStorage(value); err != nil {
			return fmt.Errorf("ccache.remote_storage: %v", err)
		}
	case "download.primary_site":
		if err := buildroot.ValidatePrimarySite(value); err != nil {
			return fmt.Errorf("download.primary_site: %v", err)
		}
	case "download.primary_site_only":
		if _, err := parseBool(value); err != nil {
			return err
		}
	}
	return nil
}

func parseBool(v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("download.primary_site_only must be true or false, not %q", v)
	}
	return b, nil
}

// farmSettings reads the build-farm keys. Values from ipabr.yaml were
// checked with their line; these checks name the environment variable.
func (l *configLoader) farmSettings(get func(string) (string, error)) (cmdutil.FarmSettings, error) {
	var fs cmdutil.FarmSettings
	vals := map[string]string{}
	for _, key := range []string{"ccache.remote_storage", "download.primary_site", "download.primary_site_only"} {
		v, err := get(key)
		if err != nil {
			return fs, err
		}
		if err := validateFarmValue(key, v); err != nil {
			s, _ := lookupSetting(key)
			if _, name := l.env(s.Envs...); name != "" {
				return fs, cmdutil.UsageError("%s: %v", name, err)
			}
			return fs, cmdutil.AsUsage(err)
		}
		vals[key] = v
	}
	fs.CCacheRemoteStorage = vals["ccache.remote_storage"]
	fs.PrimarySite = vals["download.primary_site"]
	fs.PrimarySiteOnly, _ = parseBool(vals["download.primary_site_only"])
	if fs.PrimarySiteOnly && fs.PrimarySite == "" {
		return fs, cmdutil.UsageError("download.primary_site_only is true but download.primary_site is not set: Buildroot would have nowhere to download from")
	}
	return fs, nil
}
