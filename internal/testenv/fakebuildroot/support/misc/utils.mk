# Helpers shared by the fake Buildroot's makefiles. The names follow the
# ones Buildroot's makefiles use, so recipes read alike; the bodies are the
# fake's own.

comma := ,
empty :=
space := $(empty) $(empty)

# A newline, to separate the recipe lines a $(foreach) makes.
define sep


endef

# Drop double quotes (kconfig string values) and surrounding blanks.
qstrip = $(strip $(subst ",,$(1)))
#"

# Upper-case a package name into its variable prefix: host-foo.bar -> HOST_FOO_BAR
_lc := a b c d e f g h i j k l m n o p q r s t u v w x y z - .
_uc := A B C D E F G H I J K L M N O P Q R S T U V W X Y Z _ _
_caseconv = $(if $(2),$(call _caseconv,$(subst $(firstword $(2)),$(firstword $(3)),$(1)),$(wordlist 2,99,$(2)),$(wordlist 2,99,$(3))),$(1))
UPPERCASE = $(call _caseconv,$(1),$(_lc),$(_uc))

# Words of $(1) in reverse order, and without repeats (first one kept).
reverse = $(if $(1),$(call reverse,$(wordlist 2,$(words $(1)),$(1))) $(firstword $(1)))
uniq = $(if $(1),$(firstword $(1)) $(call uniq,$(filter-out $(firstword $(1)),$(1))))

# Progress line: ">>> NAME VERSION text", NAME and VERSION from the package
# being made ($(PKG)), both empty for top-level steps. Shown in standout
# mode when the terminal has one.
TERM_BOLD := $(shell tput smso 2>/dev/null)
TERM_RESET := $(shell tput rmso 2>/dev/null)
MESSAGE = echo "$(TERM_BOLD)>>> $($(PKG)_NAME) $($(PKG)_VERSION) $(call qstrip,$(1))$(TERM_RESET)"

# JSON pieces for show-info: strings (spaces escaped so that $(strip) keeps
# them), lists of strings, booleans from YES/NO.
json-str = "$(subst $(space),\u0020,$(subst ",\",$(subst \,\\,$(1))))"
json-list = [ $(if $(strip $(1)),$(subst $(space),$(comma)$(space),$(strip $(foreach x,$(1),$(call json-str,$(x))))) )]
json-bool = $(if $(filter YES,$(1)),true,false)
# "a, }" -> "a }": the entries are written with a comma after each one.
json-clean = $(subst $(comma)$(space)],$(space)],$(subst $(comma)$(space)},$(space)},$(strip $(1))))
