# The fake packages: every name in BR2_FAKE_PACKAGES gets Buildroot's
# per-package variables (<PKG>_NAME, _VERSION, _DIR, _SOURCE, ...), its
# stamp files under $(BUILD_DIR)/<name>-<version>/ and the usual
# <pkg>, <pkg>-source, <pkg>-rebuild, <pkg>-dirclean... targets. Nothing is
# compiled; support/scripts/fake-build stands in for the Building step.

# What the fake knows of a few packages (by raw name, host- dropped);
# any other package is version 1.0 with a <name>-1.0.tar.gz source.
FAKE_PKG_VERSION_skeleton :=
FAKE_PKG_VERSION_toolchain :=
FAKE_PKG_VERSION_busybox := 1.37.0
FAKE_PKG_VERSION_python3 := 3.14.5
FAKE_PKG_VERSION_linux = $(or $(call qstrip,$(BR2_LINUX_KERNEL_CUSTOM_VERSION_VALUE)),6.19.14)
FAKE_PKG_SOURCE_busybox = busybox-$(1).tar.bz2
FAKE_PKG_SOURCE_python3 = Python-$(1).tar.xz
FAKE_PKG_SOURCE_linux = linux-$(1).tar.xz
FAKE_PKG_LICENSE_busybox := GPL-2.0
FAKE_PKG_LICENSE_linux := GPL-2.0
FAKE_PKG_LICENSE_python3 := Python-2.0
FAKE_PKG_PKGDIR_linux := linux
FAKE_PKG_PKGDIR_toolchain := toolchain/toolchain
FAKE_VIRTUAL_PACKAGES := skeleton toolchain
FAKE_STAGING_PACKAGES := python3 toolchain
FAKE_IMAGES_PACKAGES := linux
# Packages configured with kconfig, and the symbol prefix of their .config
FAKE_KCONFIG_PACKAGES := linux busybox

# Target payload of a few packages, in KiB (any other: 16), so that sizes
# differ the way they do in an image.
FAKE_PKG_TARGET_KIB_busybox := 256
FAKE_PKG_TARGET_KIB_linux := 768
FAKE_PKG_TARGET_KIB_python3 := 1536
FAKE_PKG_TARGET_KIB_openssl := 320
FAKE_PKG_TARGET_KIB_systemd := 640
fake-pkg-target-kib = $(if $(filter undefined,$(origin FAKE_PKG_TARGET_KIB_$(1))),16,$(FAKE_PKG_TARGET_KIB_$(1)))

fake-pkg-version = $(if $(filter undefined,$(origin FAKE_PKG_VERSION_$(1))),1.0,$(FAKE_PKG_VERSION_$(1)))
fake-pkg-source = $(if $(2),$(if $(filter undefined,$(origin FAKE_PKG_SOURCE_$(1))),$(1)-$(2).tar.gz,$(call FAKE_PKG_SOURCE_$(1),$(2))))

# Dependencies: host packages need host-skeleton; target packages need
# every host package and skeleton that are in the list.
fake-pkg-deps = $(filter-out $(1),$(if $(filter host-%,$(1)),\
	$(filter host-skeleton,$(PACKAGES)),\
	$(if $(filter skeleton,$(1)),$(filter host-skeleton,$(PACKAGES)),\
		$(filter host-% skeleton,$(PACKAGES)))))

# Patches from BR2_GLOBAL_PATCH_DIR, as Buildroot finds them: the
# <dir>/<name>/<version>/ directory when it exists, else <dir>/<name>/.
fake-patch-dirs = $(foreach d,$(call qstrip,$(BR2_GLOBAL_PATCH_DIR)),\
	$(or $(wildcard $(d)/$(1)/$(2)),$(wildcard $(d)/$(1))))

# fake-package NAME UPPER: the variables and rules of one package.
define fake-package
$(2)_NAME := $(1)
$(2)_RAWNAME := $(patsubst host-%,%,$(1))
$(2)_TYPE := $(if $(filter host-%,$(1)),host,target)
$(2)_VERSION := $$(call fake-pkg-version,$$($(2)_RAWNAME))
$(2)_DL_VERSION := $$($(2)_VERSION)
$(2)_IS_VIRTUAL := $$(if $$(filter $(1),$(FAKE_VIRTUAL_PACKAGES)),YES)
$(2)_SOURCE := $$(if $$($(2)_IS_VIRTUAL),,$$(call fake-pkg-source,$$($(2)_RAWNAME),$$($(2)_VERSION)))
$(2)_SITE := https://sources.buildroot.net/$$($(2)_RAWNAME)
$(2)_LICENSE := $$(or $$(FAKE_PKG_LICENSE_$$($(2)_RAWNAME)),unknown)
$(2)_LICENSE_FILES := $$(if $$($(2)_SOURCE),COPYING)
$(2)_PKGDIR := $$(or $$(FAKE_PKG_PKGDIR_$$($(2)_RAWNAME)),package/$$($(2)_RAWNAME))
$(2)_BASENAME := $$(if $$($(2)_VERSION),$(1)-$$($(2)_VERSION),$(1))
$(2)_DIR := $$(BUILD_DIR)/$$($(2)_BASENAME)
$(2)_BUILDDIR := $$($(2)_DIR)/
$(2)_DL_SUBDIR := $$($(2)_RAWNAME)
$(2)_DL_DIR := $$(DL_DIR)/$$($(2)_DL_SUBDIR)
$(2)_PATCH_DIRS := $$(call fake-patch-dirs,$$($(2)_RAWNAME),$$($(2)_VERSION))
$(2)_PATCHES := $$(sort $$(wildcard $$(addsuffix /*.patch,$$($(2)_PATCH_DIRS))))
$(2)_HASH_FILES := $$(wildcard $$($(2)_PKGDIR)/$$($(2)_RAWNAME).hash $$(addsuffix /$$($(2)_RAWNAME).hash,$$($(2)_PATCH_DIRS)))
$(2)_INSTALL_TARGET := $$(if $$(filter target,$$($(2)_TYPE)),YES,NO)
$(2)_INSTALL_STAGING := $$(if $$(filter target,$$($(2)_TYPE)),$$(if $$(filter $(1),$(FAKE_STAGING_PACKAGES)),YES,NO),NO)
$(2)_INSTALL_IMAGES := $$(if $$(filter target,$$($(2)_TYPE)),$$(if $$(filter $(1),$(FAKE_IMAGES_PACKAGES)),YES,NO),NO)
$(2)_FINAL_ALL_DEPENDENCIES := $$(call fake-pkg-deps,$(1))
$(2)_RDEPENDENCIES = $$(foreach p,$$(PACKAGES),$$(if $$(filter $(1),$$($$(call UPPERCASE,$$(p))_FINAL_ALL_DEPENDENCIES)),$$(p)))

$(2)_TARGET_SOURCE := $$($(2)_DIR)/.stamp_downloaded
$(2)_TARGET_EXTRACT := $$($(2)_DIR)/.stamp_extracted
$(2)_TARGET_PATCH := $$($(2)_DIR)/.stamp_patched
$(2)_TARGET_CONFIGURE := $$($(2)_DIR)/.stamp_configured
$(2)_TARGET_BUILD := $$($(2)_DIR)/.stamp_built
$(2)_TARGET_INSTALL_HOST := $$($(2)_DIR)/.stamp_host_installed
$(2)_TARGET_INSTALL_TARGET := $$($(2)_DIR)/.stamp_target_installed
$(2)_TARGET_INSTALL_STAGING := $$($(2)_DIR)/.stamp_staging_installed
$(2)_TARGET_INSTALL_IMAGES := $$($(2)_DIR)/.stamp_images_installed
$(2)_TARGET_INSTALL := $$($(2)_DIR)/.stamp_installed
$(2)_TARGET_DIRCLEAN := $$($(2)_DIR)/.stamp_dircleaned

$$($(2)_DIR)/.stamp_%: PKG = $(2)

$(1): $(1)-install
$(1)-install: $$($(2)_TARGET_INSTALL)
$$($(2)_TARGET_INSTALL): $$($(2)_TARGET_BUILD)
ifeq ($$($(2)_TYPE),host)
$$($(2)_TARGET_INSTALL): $$($(2)_TARGET_INSTALL_HOST)
$$($(2)_TARGET_INSTALL_HOST): $$($(2)_TARGET_BUILD)
else
$$($(2)_TARGET_INSTALL): $$($(2)_TARGET_INSTALL_TARGET)
$$($(2)_TARGET_INSTALL_TARGET): $$($(2)_TARGET_BUILD)
ifeq ($$($(2)_INSTALL_STAGING),YES)
$$($(2)_TARGET_INSTALL): $$($(2)_TARGET_INSTALL_STAGING)
$$($(2)_TARGET_INSTALL_STAGING): $$($(2)_TARGET_BUILD)
$$($(2)_TARGET_INSTALL_TARGET): $$($(2)_TARGET_INSTALL_STAGING)
endif
ifeq ($$($(2)_INSTALL_IMAGES),YES)
$$($(2)_TARGET_INSTALL): $$($(2)_TARGET_INSTALL_IMAGES)
$$($(2)_TARGET_INSTALL_IMAGES): $$($(2)_TARGET_BUILD)
endif
endif
$(1)-build: $$($(2)_TARGET_BUILD)
$$($(2)_TARGET_BUILD): $$($(2)_TARGET_CONFIGURE)
$(1)-configure: $$($(2)_TARGET_CONFIGURE)
$$($(2)_TARGET_CONFIGURE): | $$($(2)_FINAL_ALL_DEPENDENCIES)
$$($(2)_TARGET_CONFIGURE): $$($(2)_TARGET_PATCH)
$(1)-patch: $$($(2)_TARGET_PATCH)
$$($(2)_TARGET_PATCH): $$($(2)_TARGET_EXTRACT)
$(1)-extract: $$($(2)_TARGET_EXTRACT)
$$($(2)_TARGET_EXTRACT): $$($(2)_TARGET_SOURCE)
$(1)-source: $$($(2)_TARGET_SOURCE)
$(1)-depends: $$($(2)_FINAL_ALL_DEPENDENCIES)

$(1)-all-source: $(1)-source $$(foreach p,$$($(2)_FINAL_ALL_DEPENDENCIES),$$(p)-all-source)

$(1)-external-deps:
	@for p in $$($(2)_SOURCE) $$(notdir $$($(2)_PATCHES)); do echo "$$$$p"; done

$(1)-show-version:
	@echo $$($(2)_VERSION)

$(1)-show-depends:
	@echo $$($(2)_FINAL_ALL_DEPENDENCIES)

$(1)-show-rdepends:
	@echo $$($(2)_RDEPENDENCIES)

$(1)-show-info:
	@:
	$$(info $$(call json-clean,{ $$(call json-info,$(2)) }))

$(1)-dirclean: $$($(2)_TARGET_DIRCLEAN)

$(1)-clean-for-reinstall:
	rm -f $$($(2)_TARGET_INSTALL)
	rm -f $$($(2)_TARGET_INSTALL_STAGING)
	rm -f $$($(2)_TARGET_INSTALL_TARGET)
	rm -f $$($(2)_TARGET_INSTALL_IMAGES)
	rm -f $$($(2)_TARGET_INSTALL_HOST)

$(1)-reinstall: $(1)-clean-for-reinstall .WAIT $(1)

$(1)-clean-for-rebuild: $(1)-clean-for-reinstall
	rm -f $$($(2)_TARGET_BUILD)

$(1)-rebuild: $(1)-clean-for-rebuild .WAIT $(1)

$(1)-clean-for-reconfigure: $(1)-clean-for-rebuild
	rm -f $$($(2)_TARGET_CONFIGURE)

$(1)-reconfigure: $(1)-clean-for-reconfigure .WAIT $(1)

.PHONY: $(1) $(1)-install $(1)-build $(1)-configure $(1)-patch $(1)-extract \
	$(1)-source $(1)-depends $(1)-all-source $(1)-external-deps \
	$(1)-show-version $(1)-show-depends $(1)-show-rdepends $(1)-show-info \
	$(1)-dirclean $(1)-clean-for-reinstall $(1)-reinstall \
	$(1)-clean-for-rebuild $(1)-rebuild $(1)-clean-for-reconfigure $(1)-reconfigure

ifneq ($$(filter $(1),$(FAKE_KCONFIG_PACKAGES)),)
$$(eval $$(call fake-kconfig-package,$(1),$(2)))
endif
endef

# The steps. Each rule runs with PKG set to the package's variable prefix,
# like Buildroot's, so MESSAGE prints ">>> name version Step".
#
# Instrumentation in Buildroot's formats (what graph-build and graph-size
# read): every step appends its start and end to build/build-time.log as
# "<seconds since the epoch>:<start|end >:<step, padded to 20>: <package>",
# and each package's .files-list.txt lists, as "<package>,./<path>", the
# target files and symlinks it added or changed between configuring and
# installing; target-finalize concatenates those into
# build/packages-file-list.txt.

# fake-step-time start|end STEP
fake-step-time = mkdir -p $(BUILD_DIR) && printf '%s:%-5.5s:%-20.20s: %s\n' "$$(date +%s.%N)" '$(1)' '$(2)' '$($(PKG)_NAME)' >>$(BUILD_DIR)/build-time.log

# fake-target-files FILE: the target's files and symlinks, with what changes
# when one is rewritten (time, inode, size), sorted for comm.
fake-target-files = (cd $(TARGET_DIR) && find . \( -type f -o -type l \) -printf '%T@/%i/%s,%p\n' | LC_ALL=C sort) >$(1)

# Download only what the download directory lacks; say so only then.
$(BUILD_DIR)/%/.stamp_downloaded:
	@$(call fake-step-time,start,download)
	$(Q)for f in $($(PKG)_SOURCE); do \
		if test ! -e $($(PKG)_DL_DIR)/$$f; then \
			$(call MESSAGE,"Downloading"); \
			break; \
		fi; \
	done
	$(Q)for f in $($(PKG)_SOURCE); do \
		test -e $($(PKG)_DL_DIR)/$$f && continue; \
		mkdir -p $($(PKG)_DL_DIR) && \
		printf 'fake source archive %s\n' "$$f" >$($(PKG)_DL_DIR)/$$f.tmp && \
		mv $($(PKG)_DL_DIR)/$$f.tmp $($(PKG)_DL_DIR)/$$f || exit 1; \
	done
	$(Q)mkdir -p $(@D)
	@$(call fake-step-time,end,download)
	$(Q)touch $@

$(BUILD_DIR)/%/.stamp_extracted:
	@$(call fake-step-time,start,extract)
	@$(call MESSAGE,"Extracting")
	$(Q)mkdir -p $(@D)
	@$(call fake-step-time,end,extract)
	$(Q)touch $@

$(BUILD_DIR)/%/.stamp_patched:
	@$(call fake-step-time,start,patch)
	@$(call MESSAGE,"Patching")
	$(Q)for p in $($(PKG)_PATCHES); do \
		echo ""; \
		echo "Applying $${p##*/} using patch: "; \
		echo "$$p" >>$(@D)/.applied_patches_list; \
	done
	@$(call fake-step-time,end,patch)
	$(Q)touch $@

$(BUILD_DIR)/%/.stamp_configured:
	@$(call fake-step-time,start,configure)
	@$(call MESSAGE,"Configuring")
	$(Q)mkdir -p $(HOST_DIR) $(TARGET_DIR) $(STAGING_DIR) $(BINARIES_DIR)
	$(Q)$(call fake-target-files,$(@D)/.files-list.before)
	@$(call fake-step-time,end,configure)
	$(Q)touch $@

$(BUILD_DIR)/%/.stamp_built:
	@$(call fake-step-time,start,build)
	@$(call MESSAGE,"Building")
	$(if $(filter y,$(BR2_CCACHE)),$(Q)mkdir -p $(BR_CACHE_DIR))
	$(Q)$(TOPDIR)/support/scripts/fake-build '$($(PKG)_NAME)' '$(@D)'
	@$(call fake-step-time,end,build)
	$(Q)touch $@

$(BUILD_DIR)/%/.stamp_host_installed:
	@$(call fake-step-time,start,install-host)
	@$(call MESSAGE,"Installing to host directory")
	$(Q)mkdir -p $(HOST_DIR)/share/fake
	$(Q)echo '$($(PKG)_NAME) $($(PKG)_VERSION)' >$(HOST_DIR)/share/fake/$($(PKG)_NAME)
	@$(call fake-step-time,end,install-host)
	$(Q)touch $@

$(BUILD_DIR)/%/.stamp_staging_installed:
	@$(call fake-step-time,start,install-staging)
	@$(call MESSAGE,"Installing to staging directory")
	$(Q)mkdir -p $(STAGING_DIR)/usr/share/fake
	$(Q)echo '$($(PKG)_NAME) $($(PKG)_VERSION)' >$(STAGING_DIR)/usr/share/fake/$($(PKG)_NAME)
	@$(call fake-step-time,end,install-staging)
	$(Q)touch $@

$(BUILD_DIR)/%/.stamp_images_installed:
	@$(call fake-step-time,start,install-image)
	@$(call MESSAGE,"Installing to images directory")
	$(Q)mkdir -p $(BINARIES_DIR)
	$(Q)$(FAKE_INSTALL_IMAGES_CMDS_$($(PKG)_RAWNAME))
	@$(call fake-step-time,end,install-image)
	$(Q)touch $@

$(BUILD_DIR)/%/.stamp_target_installed:
	@$(call fake-step-time,start,install-target)
	@$(call MESSAGE,"Installing to target")
	$(Q)mkdir -p $(TARGET_DIR)/usr/share/fake
	$(Q)echo '$($(PKG)_NAME) $($(PKG)_VERSION)' >$(TARGET_DIR)/usr/share/fake/$($(PKG)_NAME)
	$(Q)mkdir -p $(TARGET_DIR)/usr/lib/fake
	$(Q)head -c $(call fake-pkg-target-kib,$($(PKG)_RAWNAME))K /dev/zero >$(TARGET_DIR)/usr/lib/fake/$($(PKG)_NAME).so
	$($(PKG)_INSTALL_TARGET_CMDS)
	@$(call fake-step-time,end,install-target)
	$(Q)touch $@

$(BUILD_DIR)/%/.stamp_installed:
	$(Q)$(call fake-target-files,$(@D)/.files-list.after)
	$(Q)LC_ALL=C comm -13 $(@D)/.files-list.before $(@D)/.files-list.after \
		| sed -e 's/^[^,]*,/$($(PKG)_NAME),/' >$(@D)/.files-list.txt
	$(Q)touch $@

$(BUILD_DIR)/%/.stamp_dircleaned:
	rm -Rf $(@D)

FAKE_INSTALL_IMAGES_CMDS_linux = printf 'fake bzImage: linux %s\n' '$(LINUX_VERSION)' >$(BINARIES_DIR)/bzImage

# show-info: one entry of the JSON object, with the fields Buildroot's
# json-info gives (package/pkg-utils.mk) for packages and filesystems.
json-info = "$($(1)_NAME)": { "type": $(call json-str,$($(1)_TYPE)), \
	$(if $(filter rootfs,$($(1)_TYPE)),$(call json-info-fs,$(1)),$(call json-info-pkg,$(1))) }

json-info-pkg = \
	"name": $(call json-str,$($(1)_RAWNAME)), \
	$(if $($(1)_IS_VIRTUAL),"virtual": true$(comma),"virtual": false$(comma) $(call json-info-pkg-details,$(1))) \
	"package_dir": $(call json-str,$($(1)_PKGDIR)), \
	"stamp_dir": $(call json-str,$(patsubst $(CONFIG_DIR)/%,%,$($(1)_DIR))), \
	"source_dir": $(call json-str,$(patsubst $(CONFIG_DIR)/%,%,$($(1)_DIR))), \
	"build_dir": $(call json-str,$(patsubst $(CONFIG_DIR)/%,%,$($(1)_BUILDDIR))), \
	$(if $(filter target,$($(1)_TYPE)), \
		"install_target": $(call json-bool,$($(1)_INSTALL_TARGET))$(comma) \
		"install_staging": $(call json-bool,$($(1)_INSTALL_STAGING))$(comma) \
		"install_images": $(call json-bool,$($(1)_INSTALL_IMAGES))$(comma)) \
	"dependencies": $(call json-list,$(sort $($(1)_FINAL_ALL_DEPENDENCIES))), \
	"reverse_dependencies": $(call json-list,$(sort $($(1)_RDEPENDENCIES)))

json-info-pkg-details = \
	"version": $(call json-str,$($(1)_DL_VERSION)), \
	"licenses": $(call json-str,$($(1)_LICENSE)), \
	"license_files": $(call json-list,$($(1)_LICENSE_FILES)), \
	"redistributable": true, \
	"dl_dir": $(call json-str,$($(1)_DL_SUBDIR)), \
	"downloads": [ $(foreach s,$($(1)_SOURCE),{ "source": $(call json-str,$(s)), \
		"uris": $(call json-list,https+$($(1)_SITE) https|urlencode+https://sources.buildroot.net) }$(comma)) ], \
	"hashes": $(call json-list,$($(1)_HASH_FILES)), \
	"patches": $(call json-list,$(patsubst $(CONFIG_DIR)/%,%,$($(1)_PATCHES))),

json-info-fs = \
	"image_name": $(if $($(1)_FINAL_IMAGE_NAME),$(call json-str,$($(1)_FINAL_IMAGE_NAME)),null ), \
	"dependencies": $(call json-list,$(sort $($(1)_DEPENDENCIES)))
