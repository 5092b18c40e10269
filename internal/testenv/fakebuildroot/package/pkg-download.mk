# Downloads, as Buildroot's DOWNLOAD does them (package/pkg-download.mk):
# under flock on <dl>/<pkg>/.lock, into a temporary file renamed into place,
# so builds sharing BR2_DL_DIR fetch each file once and never see half of
# one. This rule replaces the plain one of pkg-generic.mk (same target).
# Knobs: FAKE_DL_SLEEP=SECONDS (hold the lock that long per file) and
# FAKE_DL_JOURNAL=FILE (append "start"/"end" lines; see fake-download).
export FAKE_DL_SLEEP FAKE_DL_JOURNAL

$(BUILD_DIR)/%/.stamp_downloaded:
	@$(call fake-step-time,start,download)
	$(Q)for f in $($(PKG)_SOURCE); do \
		if test ! -e $($(PKG)_DL_DIR)/$$f; then \
			$(call MESSAGE,"Downloading"); \
			break; \
		fi; \
	done
	$(Q)mkdir -p $($(PKG)_DL_DIR)
	$(Q)for f in $($(PKG)_SOURCE); do \
		flock $($(PKG)_DL_DIR)/.lock $(TOPDIR)/support/scripts/fake-download $($(PKG)_DL_DIR) "$$f" || exit 1; \
	done
	$(Q)mkdir -p $(@D)
	@$(call fake-step-time,end,download)
	$(Q)touch $@
