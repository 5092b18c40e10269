# Marks skeleton as a package of this tree, where Buildroot keeps it
# (ipabr rebuild looks for PKG.mk); the fake builds what BR2_FAKE_PACKAGES
# names (see the top Makefile).
