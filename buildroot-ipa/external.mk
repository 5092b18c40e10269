# Packages Buildroot lacks live in package/<name>/ of this tree, each with
# its own <name>.mk; pull them all in.
include $(sort $(wildcard $(BR2_EXTERNAL_IPA_PATH)/package/*/*.mk))
