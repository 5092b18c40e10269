################################################################################
#
# ironic-python-agent
#
################################################################################

# The version is the OpenStack series. Its lock, written by
# "ipabr ipa lock --release <series>", is <series>/ironic-python-agent.lock.mk
# (each wheel's URL, as _EXTRA_DOWNLOADS) and <series>/ironic-python-agent.hash
# (each wheel's sha256), which Buildroot finds by the version. The wheels
# are the package's only downloads: hash-checked, mirrored by
# BR2_PRIMARY_SITE, fetched by "make source".
IRONIC_PYTHON_AGENT_SERIES = $(call qstrip,$(BR2_PACKAGE_IRONIC_PYTHON_AGENT_SERIES))

# A series is at most 32 lowercase letters, digits, '.' and '-', starting
# with a letter or digit and without "..": it names a directory and goes
# into a shell command. Another name must not reach the package's
# definition (Buildroot cannot carry a version such as "a;b"): the package
# then has the version "invalid" and the build stops below. ipabr checks
# the same rule (ValidateSeries in internal/ipa/series.go; rules_test.go
# checks that both agree).
IRONIC_PYTHON_AGENT_SERIES_CHARS = a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 5 6 7 8 9 . -
IRONIC_PYTHON_AGENT_STRIP = $(if $(2),$(call IRONIC_PYTHON_AGENT_STRIP,$(subst $(firstword $(2)),,$(1)),$(wordlist 2,$(words $(2)),$(2))),$(1))
# Each character of $(1) that $(2) lists, followed by a space: the
# characters as words, to count them.
IRONIC_PYTHON_AGENT_SPREAD = $(if $(2),$(call IRONIC_PYTHON_AGENT_SPREAD,$(subst $(firstword $(2)),$(firstword $(2)) ,$(1)),$(wordlist 2,$(words $(2)),$(2))),$(1))
IRONIC_PYTHON_AGENT_SERIES_BAD = $(strip \
	$(if $(filter-out 1,$(words $(IRONIC_PYTHON_AGENT_SERIES))),y) \
	$(call IRONIC_PYTHON_AGENT_STRIP,$(IRONIC_PYTHON_AGENT_SERIES),$(IRONIC_PYTHON_AGENT_SERIES_CHARS)) \
	$(findstring ..,$(IRONIC_PYTHON_AGENT_SERIES)) \
	$(filter .% -%,$(IRONIC_PYTHON_AGENT_SERIES)) \
	$(if $(word 33,$(call IRONIC_PYTHON_AGENT_SPREAD,$(IRONIC_PYTHON_AGENT_SERIES),$(IRONIC_PYTHON_AGENT_SERIES_CHARS))),y))

IRONIC_PYTHON_AGENT_VERSION = $(if $(IRONIC_PYTHON_AGENT_SERIES_BAD),invalid,$(IRONIC_PYTHON_AGENT_SERIES))
IRONIC_PYTHON_AGENT_SOURCE =
IRONIC_PYTHON_AGENT_LICENSE = Apache-2.0
# udev: pyudev loads libudev, and IPA lists disks through pyudev.
IRONIC_PYTHON_AGENT_DEPENDENCIES = python3 host-python-installer udev
IRONIC_PYTHON_AGENT_INSTALL_IMAGES = YES

# install-wheels.py checks each wheel against the hash file, installs it
# with Buildroot's pyinstaller.py (scripts get #!/usr/bin/python), drops
# tests and caches, and writes the manifest that goes to the images.
define IRONIC_PYTHON_AGENT_INSTALL_TARGET_CMDS
	$(HOST_DIR)/bin/python3 $(IRONIC_PYTHON_AGENT_PKGDIR)/install-wheels.py \
		--pyinstaller $(TOPDIR)/support/scripts/pyinstaller.py \
		--hash-file $(IRONIC_PYTHON_AGENT_PKGDIR)/$(IRONIC_PYTHON_AGENT_VERSION)/ironic-python-agent.hash \
		--target $(TARGET_DIR) \
		--python-version $(PYTHON3_VERSION_MAJOR) \
		--series $(IRONIC_PYTHON_AGENT_VERSION) \
		--manifest $(@D)/ipa-manifest.json \
		$(addprefix $(IRONIC_PYTHON_AGENT_DL_DIR)/,$(notdir $(IRONIC_PYTHON_AGENT_EXTRA_DOWNLOADS)))
	$(HOST_DIR)/bin/python3 $(IRONIC_PYTHON_AGENT_PKGDIR)/ctypes-libraries.py scan \
		--site $(TARGET_DIR)/usr/lib/python$(PYTHON3_VERSION_MAJOR)/site-packages \
		--manifest $(@D)/ipa-manifest.json \
		--reviewed $(IRONIC_PYTHON_AGENT_PKGDIR)/ctypes-libraries.txt \
		--out $(@D)/ctypes-libraries.json
endef

# The libraries the wheels load through ctypes must be in the image; only
# the finished target directory tells (ctypes-libraries.py, doc/image.md).
define IRONIC_PYTHON_AGENT_CHECK_CTYPES_LIBRARIES
	$(HOST_DIR)/bin/python3 $(IRONIC_PYTHON_AGENT_PKGDIR)/ctypes-libraries.py check \
		--report $(IRONIC_PYTHON_AGENT_DIR)/ctypes-libraries.json \
		--target $(TARGET_DIR)
endef
IRONIC_PYTHON_AGENT_TARGET_FINALIZE_HOOKS += IRONIC_PYTHON_AGENT_CHECK_CTYPES_LIBRARIES

define IRONIC_PYTHON_AGENT_INSTALL_IMAGES_CMDS
	$(INSTALL) -D -m 0644 $(@D)/ipa-manifest.json $(BINARIES_DIR)/ipa-manifest.json
endef

# legal-info passes over packages without a _SOURCE: record this one in the
# manifest (with the licenses the lock found) and save its wheels.
define IRONIC_PYTHON_AGENT_LEGAL_INFO_WHEELS
	$(foreach w,$(notdir $(IRONIC_PYTHON_AGENT_EXTRA_DOWNLOADS)),\
		$(Q)support/scripts/hardlink-or-copy $(IRONIC_PYTHON_AGENT_DL_DIR)/$(w) \
			$(IRONIC_PYTHON_AGENT_REDIST_SOURCES_DIR)$(sep))
	@$(call legal-manifest,TARGET,ironic-python-agent,$(IRONIC_PYTHON_AGENT_VERSION),$(subst $(space)$(comma),$(comma),$(IRONIC_PYTHON_AGENT_LICENSE)),,$(words $(IRONIC_PYTHON_AGENT_EXTRA_DOWNLOADS)) wheels: $(IRONIC_PYTHON_AGENT_VERSION)/manifest.txt,$(IRONIC_PYTHON_AGENT_LOCK_INDEX),$(call legal-deps,ironic-python-agent))
endef
IRONIC_PYTHON_AGENT_POST_LEGAL_INFO_HOOKS += IRONIC_PYTHON_AGENT_LEGAL_INFO_WHEELS

$(eval $(generic-package))

# The lock is read after the package is defined: generic-package takes the
# package's directory from the last makefile read.
ifeq ($(BR2_PACKAGE_IRONIC_PYTHON_AGENT),y)

IRONIC_PYTHON_AGENT_GIT_URL = $(call qstrip,$(BR2_PACKAGE_IRONIC_PYTHON_AGENT_GIT_URL))
IRONIC_PYTHON_AGENT_GIT_REF = $(call qstrip,$(BR2_PACKAGE_IRONIC_PYTHON_AGENT_GIT_REF))
IRONIC_PYTHON_AGENT_EXTRA = $(call qstrip,$(BR2_PACKAGE_IRONIC_PYTHON_AGENT_EXTRA_REQUIREMENTS))
IRONIC_PYTHON_AGENT_LOCK = $(IRONIC_PYTHON_AGENT_PKGDIR)/$(IRONIC_PYTHON_AGENT_SERIES)/ironic-python-agent.lock.mk

# The glibc of Bootlin's toolchain releases: Buildroot names it only in the
# commit that moves to a release ("ipabr ipa lock" reads this table too).
IRONIC_PYTHON_AGENT_BOOTLIN_GLIBC_2025.08-1 = 2.41

# The image's glibc (major.minor): Buildroot's own, or the Bootlin
# release's; other external toolchains do not say.
ifeq ($(BR2_TOOLCHAIN_BUILDROOT_GLIBC),y)
IRONIC_PYTHON_AGENT_IMAGE_GLIBC = $(firstword $(subst -, ,$(GLIBC_VERSION)))
else ifeq ($(BR2_TOOLCHAIN_EXTERNAL_BOOTLIN),y)
IRONIC_PYTHON_AGENT_IMAGE_GLIBC = $(IRONIC_PYTHON_AGENT_BOOTLIN_GLIBC_$(TOOLCHAIN_EXTERNAL_BOOTLIN_VERSION))
endif
# y when the lock's glibc is newer than the image's: its manylinux wheels
# may need symbols the image's C library lacks.
IRONIC_PYTHON_AGENT_GLIBC_TOO_NEW = $(if $(IRONIC_PYTHON_AGENT_IMAGE_GLIBC),$(shell \
	[ "$(word 2,$(subst ., ,$(IRONIC_PYTHON_AGENT_LOCK_GLIBC)))" -gt "$(word 2,$(subst ., ,$(IRONIC_PYTHON_AGENT_IMAGE_GLIBC)))" ] 2>/dev/null && echo y))

ifneq ($(IRONIC_PYTHON_AGENT_SERIES_BAD),)
IRONIC_PYTHON_AGENT_PROBLEM = BR2_PACKAGE_IRONIC_PYTHON_AGENT_SERIES="$(IRONIC_PYTHON_AGENT_SERIES)" is not an OpenStack series name (such as 2026.1 or master); set a series with  ipabr ipa use SERIES  (or make menuconfig)
else

ifeq ($(wildcard $(IRONIC_PYTHON_AGENT_LOCK)),)
IRONIC_PYTHON_AGENT_LOCK_EXTRA =
IRONIC_PYTHON_AGENT_LOCK_IPA_REQUESTED =
else
include $(IRONIC_PYTHON_AGENT_LOCK)
endif

# The command that makes the lock this configuration asks for
# (ConfiguredLockCommand in internal/ipa/lock.go writes the same).
IRONIC_PYTHON_AGENT_LOCK_CMD = $(strip ipabr ipa lock --release $(IRONIC_PYTHON_AGENT_SERIES) \
	$(if $(IRONIC_PYTHON_AGENT_GIT_URL),--ipa-source '$(IRONIC_PYTHON_AGENT_GIT_URL)@$(IRONIC_PYTHON_AGENT_GIT_REF)') \
	$(foreach e,$(IRONIC_PYTHON_AGENT_EXTRA) $(filter-out $(IRONIC_PYTHON_AGENT_EXTRA),$(IRONIC_PYTHON_AGENT_LOCK_EXTRA)),--extra '$(e)') \
	$(if $(IRONIC_PYTHON_AGENT_LOCK_IPA_REQUESTED),--ipa-version $(IRONIC_PYTHON_AGENT_LOCK_IPA_REQUESTED)))

ifeq ($(wildcard $(IRONIC_PYTHON_AGENT_LOCK)),)
IRONIC_PYTHON_AGENT_PROBLEM = no lock for OpenStack series $(IRONIC_PYTHON_AGENT_SERIES) ($(IRONIC_PYTHON_AGENT_LOCK) is missing); make it with  $(IRONIC_PYTHON_AGENT_LOCK_CMD)  (ipabr build does it by itself when the package index is reachable)
else ifneq ($(IRONIC_PYTHON_AGENT_LOCK_PYTHON),$(PYTHON3_VERSION_MAJOR))
IRONIC_PYTHON_AGENT_PROBLEM = the lock of $(IRONIC_PYTHON_AGENT_SERIES) was resolved for Python $(IRONIC_PYTHON_AGENT_LOCK_PYTHON), the image has Python $(PYTHON3_VERSION_MAJOR); lock again with  $(IRONIC_PYTHON_AGENT_LOCK_CMD)  and build again
else ifeq ($(IRONIC_PYTHON_AGENT_GLIBC_TOO_NEW),y)
IRONIC_PYTHON_AGENT_PROBLEM = the lock of $(IRONIC_PYTHON_AGENT_SERIES) was resolved for glibc $(IRONIC_PYTHON_AGENT_LOCK_GLIBC), the image's toolchain has glibc $(IRONIC_PYTHON_AGENT_IMAGE_GLIBC); lock again for this configuration with  $(IRONIC_PYTHON_AGENT_LOCK_CMD)  and build again
else ifneq ($(IRONIC_PYTHON_AGENT_GIT_URL),)
ifneq ($(IRONIC_PYTHON_AGENT_GIT_URL)@$(IRONIC_PYTHON_AGENT_GIT_REF),$(IRONIC_PYTHON_AGENT_LOCK_GIT_URL)@$(IRONIC_PYTHON_AGENT_LOCK_GIT_REF))
IRONIC_PYTHON_AGENT_PROBLEM = BR2_PACKAGE_IRONIC_PYTHON_AGENT_GIT_URL/REF ask for IPA from $(IRONIC_PYTHON_AGENT_GIT_URL)@$(IRONIC_PYTHON_AGENT_GIT_REF) but the lock of $(IRONIC_PYTHON_AGENT_SERIES) has $(if $(IRONIC_PYTHON_AGENT_LOCK_GIT_URL),$(IRONIC_PYTHON_AGENT_LOCK_GIT_URL)@$(IRONIC_PYTHON_AGENT_LOCK_GIT_REF),the release $(IRONIC_PYTHON_AGENT_LOCK_IPA_VERSION)); lock again with  $(IRONIC_PYTHON_AGENT_LOCK_CMD)  and build again
endif
endif
ifeq ($(IRONIC_PYTHON_AGENT_PROBLEM),)
ifneq ($(filter-out $(IRONIC_PYTHON_AGENT_LOCK_EXTRA),$(IRONIC_PYTHON_AGENT_EXTRA)),)
IRONIC_PYTHON_AGENT_PROBLEM = the lock of $(IRONIC_PYTHON_AGENT_SERIES) lacks the extra requirements $(filter-out $(IRONIC_PYTHON_AGENT_LOCK_EXTRA),$(IRONIC_PYTHON_AGENT_EXTRA)) of BR2_PACKAGE_IRONIC_PYTHON_AGENT_EXTRA_REQUIREMENTS; lock again with  $(IRONIC_PYTHON_AGENT_LOCK_CMD)  and build again
endif
endif

endif # series name

# Without a usable lock, a build stops at once, before anything else is
# built; goals that only read metadata (show-info, savedefconfig,
# *-show-depends, printvars, ...) keep working. Any other way of reaching
# the package stops at its download step. ipabr build makes the lock first
# for the same goals (internal/ipa/goals.go; a test checks they agree).
IRONIC_PYTHON_AGENT_BUILD_GOALS = all world source ironic-python-agent target-finalize rootfs-% \
	$(addprefix ironic-python-agent-,source extract patch configure build \
		install install-target install-images rebuild reinstall reconfigure)

ifneq ($(IRONIC_PYTHON_AGENT_PROBLEM),)
ifneq ($(if $(MAKECMDGOALS),$(filter $(IRONIC_PYTHON_AGENT_BUILD_GOALS),$(MAKECMDGOALS)),all),)
$(error ironic-python-agent: $(IRONIC_PYTHON_AGENT_PROBLEM))
endif
define IRONIC_PYTHON_AGENT_STOP
	$(error ironic-python-agent: $(IRONIC_PYTHON_AGENT_PROBLEM))
endef
IRONIC_PYTHON_AGENT_PRE_DOWNLOAD_HOOKS += IRONIC_PYTHON_AGENT_STOP
endif

endif # BR2_PACKAGE_IRONIC_PYTHON_AGENT
