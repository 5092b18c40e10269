# Root filesystem images: every rootfs-<fs> in BR2_FAKE_PACKAGES makes
# $(BINARIES_DIR)/rootfs.<fs> after the target directory is finalized;
# rootfs-cpio also makes rootfs.cpio.xz. The contents are small and
# deterministic, not real archives.

ROOTFS_COMMON_NAME := rootfs-common
ROOTFS_COMMON_TYPE := rootfs
ROOTFS_COMMON_DEPENDENCIES = $(filter host-%,$(PACKAGES))

.PHONY: rootfs-common
rootfs-common: $(ROOTFS_COMMON_DEPENDENCIES) target-finalize
	@$(call MESSAGE,"Generating root filesystems common tables")
	$(Q)rm -rf $(FS_DIR)
	$(Q)mkdir -p $(FS_DIR)
	$(Q)printf '/dev/console c 622 0 0 5 1 - - -\n' >$(FS_DIR)/device_table.txt

# fake-rootfs FS UPPER
define fake-rootfs
ROOTFS_$(2)_NAME := rootfs-$(1)
ROOTFS_$(2)_TYPE := rootfs
ROOTFS_$(2)_FINAL_IMAGE_NAME := rootfs.$(1)
ROOTFS_$(2)_DEPENDENCIES := rootfs-common
ROOTFS_$(2)_COMPRESS_EXT := $(if $(filter cpio,$(1)),.xz)

$$(BINARIES_DIR)/rootfs.$(1): ROOTFS = $(2)
$$(BINARIES_DIR)/rootfs.$(1): $$(ROOTFS_$(2)_DEPENDENCIES)
	@$$(call MESSAGE,"Generating filesystem image rootfs.$(1)")
	$$(Q)mkdir -p $$(@D)
	$$(foreach s,$$(call qstrip,$$(BR2_ROOTFS_POST_FAKEROOT_SCRIPT)), \
		@echo "$$(TERM_BOLD)>>>   Executing fakeroot script $$(s)$$(TERM_RESET)"$$(sep) \
		$$(Q)$$(EXTRA_ENV) $$(s) $$(TARGET_DIR) $$(call qstrip,$$(BR2_ROOTFS_POST_SCRIPT_ARGS)) \
			$$(call qstrip,$$(BR2_ROOTFS_POST_FAKEROOT_SCRIPT_ARGS))$$(sep))
	$$(Q)printf 'fake %s image of %s\n' '$(1)' '$$(TARGET_DIR)' >$$@
	$$(if $$(ROOTFS_$(2)_COMPRESS_EXT),$$(Q)printf 'fake %s image of %s (xz)\n' '$(1)' '$$(TARGET_DIR)' >$$@$$(ROOTFS_$(2)_COMPRESS_EXT))

rootfs-$(1): $$(BINARIES_DIR)/rootfs.$(1)

rootfs-$(1)-show-info:
	@:
	$$(info $$(call json-clean,{ $$(call json-info,ROOTFS_$(2)) }))

.PHONY: rootfs-$(1) rootfs-$(1)-show-info
endef
