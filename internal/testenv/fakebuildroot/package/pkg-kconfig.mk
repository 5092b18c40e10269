# Kconfig-based packages (linux, busybox): their .config in the build
# directory, the configurator targets and the targets that save the
# configuration back, as in Buildroot's package/pkg-kconfig.mk.
#
# <pkg>_KCONFIG_FILE: the configuration file the package starts from and
# <pkg>-update-config saves to; linux: BR2_LINUX_KERNEL_CUSTOM_CONFIG_FILE
# (without it linux uses a built-in default and offers no update targets);
# busybox: BR2_PACKAGE_BUSYBOX_CONFIG, by default the tree's own
# package/busybox/busybox.config.

FAKE_KCONFIG_FILE_linux = $(call qstrip,$(BR2_LINUX_KERNEL_CUSTOM_CONFIG_FILE))
FAKE_KCONFIG_FILE_busybox = $(or $(call qstrip,$(BR2_PACKAGE_BUSYBOX_CONFIG)),package/busybox/busybox.config)
FAKE_KCONFIG_FRAGMENTS_linux = $(call qstrip,$(BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES))
FAKE_KCONFIG_FRAGMENTS_busybox = $(call qstrip,$(BR2_PACKAGE_BUSYBOX_CONFIG_FRAGMENT_FILES))
FAKE_KCONFIG_EDITORS_linux := menuconfig nconfig xconfig gconfig
FAKE_KCONFIG_EDITORS_busybox := menuconfig
FAKE_KCONFIG_DEFCONFIG_linux := yes
FAKE_KCONFIG_HEADER_linux = Linux/x86 $(LINUX_VERSION) Kernel Configuration
FAKE_KCONFIG_HEADER_busybox = Busybox version: $(BUSYBOX_VERSION)
# The configuration a package gets when it has no configuration file
FAKE_KCONFIG_DEFAULT := CONFIG_FAKE_DEFAULT=y
# The lines of a kconfig file that hold a symbol (an ERE)
FAKE_KCONFIG_LINE := ^(CONFIG_[A-Za-z0-9_]+=|\# CONFIG_[A-Za-z0-9_]+ is not set$$)

define fake-kconfig-package
$(2)_KCONFIG_FILE = $$(FAKE_KCONFIG_FILE_$(1))
$(2)_KCONFIG_FRAGMENT_FILES = $$(FAKE_KCONFIG_FRAGMENTS_$(1))
$(2)_KCONFIG_EDITORS := $(FAKE_KCONFIG_EDITORS_$(1))

# The .config: the configuration file (or the default) plus the fragments.
$$($(2)_DIR)/.stamp_dotconfig: $$(wildcard $$($(2)_KCONFIG_FILE)) $$($(2)_KCONFIG_FRAGMENT_FILES) | $(1)-patch
	$$(Q){ printf '#\n# Automatically generated file; DO NOT EDIT.\n# %s\n#\n' '$$(FAKE_KCONFIG_HEADER_$(1))'; \
		if [ -n '$$($(2)_KCONFIG_FILE)' ] && [ -f '$$($(2)_KCONFIG_FILE)' ]; then \
			grep -E '$$(FAKE_KCONFIG_LINE)' '$$($(2)_KCONFIG_FILE)' || true; \
		else \
			echo '$$(FAKE_KCONFIG_DEFAULT)'; \
		fi; \
		for f in $$($(2)_KCONFIG_FRAGMENT_FILES); do cat "$$$$f"; done; \
	} >$$(@D)/.config
	$$(Q)touch $$@

$$($(2)_DIR)/.stamp_kconfig_fixup_done: $$($(2)_DIR)/.stamp_dotconfig
	$$(if $$(filter linux,$(1)),@$$(call MESSAGE,"Updating kernel config with fixups"))
	$$(Q)touch $$@

$$($(2)_TARGET_CONFIGURE): $$($(2)_DIR)/.stamp_kconfig_fixup_done

# Configurators: ask on the terminal, then make the package rebuild.
$$(addprefix $(1)-,$$($(2)_KCONFIG_EDITORS)): $$($(2)_DIR)/.stamp_kconfig_fixup_done
	$$(Q)BR2_PREFIX= $$(TOPDIR)/support/scripts/fake-menuconfig $$($(2)_DIR)/.config CONFIG_FAKE_OPTION
	rm -f $$($(2)_DIR)/.stamp_configured $$($(2)_DIR)/.stamp_built
	rm -f $$($(2)_DIR)/.stamp_target_installed $$($(2)_DIR)/.stamp_staging_installed $$($(2)_DIR)/.stamp_images_installed

$(1)-check-configuration-done:
	@if [ ! -f $$($(2)_DIR)/.stamp_kconfig_fixup_done ]; then \
		echo "$(1) is not yet configured"; \
		exit 1; \
	fi

ifneq ($$($(2)_KCONFIG_FILE),)
# Save the configuration back: the whole .config (update-config) or, for
# linux, the minimal one (update-defconfig: the set and "is not set" lines).
$(1)-update-config: $(1)-check-configuration-done
	$$(call fake-kconfig-update,$(1),$(2),.config)

ifeq ($$(FAKE_KCONFIG_DEFCONFIG_$(1)),yes)
$(1)-savedefconfig: $(1)-check-configuration-done
	$$(Q)grep -E '$$(FAKE_KCONFIG_LINE)' $$($(2)_DIR)/.config >$$($(2)_DIR)/defconfig || true

$(1)-update-defconfig: $(1)-savedefconfig
	$$(call fake-kconfig-update,$(1),$(2),defconfig)

.PHONY: $(1)-savedefconfig $(1)-update-defconfig
endif
.PHONY: $(1)-update-config
endif

.PHONY: $$(addprefix $(1)-,$$($(2)_KCONFIG_EDITORS)) $(1)-check-configuration-done
endef

# fake-kconfig-update NAME UPPER FILE: copy $(<UPPER>_DIR)/FILE to the
# package's configuration file.
define fake-kconfig-update
	@$(if $($(2)_KCONFIG_FRAGMENT_FILES), \
		echo "Unable to perform $(@) when fragment files are set"; exit 1)
	$(Q)if [ -d $($(2)_KCONFIG_FILE) ]; then \
		echo "Unable to perform $(@) when $($(2)_KCONFIG_FILE) is a directory"; \
		exit 1; \
	fi
	$(Q)mkdir -p $(dir $($(2)_KCONFIG_FILE))
	cp -f $($(2)_DIR)/$(3) $($(2)_KCONFIG_FILE)
	$(Q)touch -r $($(2)_DIR)/.stamp_dotconfig $($(2)_KCONFIG_FILE)
endef
