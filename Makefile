# SPDX-License-Identifier: GPL-2.0
#
# vnode top-level Makefile.
#
#   make                 kernel modules (for KDIR) + userspace tools
#   make KDIR=/path      build the modules against another kernel tree
#   make modules-all     lab build: modules for every installed Debian
#                        linux-headers-*-amd64, with the test hooks
#   make debug-kernel    KASAN/lockdep guest kernel in build/debug-kernel/
#                        + vnode's modules for it (VLAB_KERNEL=debug)
#   make check           install missing deps, build, run every test (TAP)
#   make check-debug     the lab tests on the debug kernel (hours)
#   make demo            boot the virtual lab and run the demo
#   make bench           remote-memory benchmark vs NVMe-oF, zram, local
#   make install         install modules (+depmod) and tools; PREFIX, DESTDIR
#   make uninstall       remove what make install put there
#   make deb             Debian packages vnode-dkms, vnode-utils (build/deb/)
#
# Modules are built out of tree in build/<kernelrelease>/, so one checkout
# holds modules for several kernels at once; a guest finds its own with
# build/$(uname -r)/.

SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD ?= $(ROOT)/build

# KDIR: the running kernel's build dir, else the newest installed Debian
# linux-headers-*-amd64.
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	$(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1))
# The release modules are built for (Debian's include/config/kernel.release
# holds the upstream version, not the package's uname -r).
krel = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' $(1)/include/generated/utsrelease.h 2>/dev/null)
KVER = $(call krel,$(KDIR))
ALL_KDIRS = $(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V)

# VNODE_TEST_HOOKS=1 builds the test-only hooks the lab tests use
# (vnode_xprt_test.ko, vnode_stor drop_replies, a chosen protocol major;
# docs/abi.md).  modules-all, the lab build, turns them on unless given
# VNODE_TEST_HOOKS=0; make modules, make install and dkms leave them out.
VNODE_TEST_HOOKS ?=

PREFIX ?= /usr/local
DESTDIR ?=
W ?= 1

.PHONY: all modules modules-all debug-kernel userspace tools bench deps check check-debug check-unit demo install \
	install-modules install-tools uninstall uninstall-modules uninstall-tools deb clean help

all: modules userspace

help:
	@sed -n '3,17p' $(ROOT)/Makefile

deps:
	@$(ROOT)/scripts/install-deps

# build/<kver>/ mirrors Kbuild + modules/ (cp -a keeps mtimes, so the
# kernel's make stays incremental).
define build_modules
	@test -n "$(1)" -a -d "$(1)" || { echo "error: no kernel headers (KDIR='$(1)'); run scripts/install-deps or pass KDIR=" >&2; exit 1; }
	@kv=$(call krel,$(1)); \
	out=$(BUILD)/$$kv; mkdir -p $$out; \
	cp -a $(ROOT)/Kbuild $(ROOT)/modules $$out/ && \
	echo "  MODULES $$kv" && \
	$(MAKE) -s -C $(1) M=$$out W=$(W) VNODE_TEST_HOOKS=$(VNODE_TEST_HOOKS) modules
endef

modules:
	$(call build_modules,$(KDIR))

modules-all:
	@test -n "$(ALL_KDIRS)" || { echo "error: no linux-headers-*-amd64 installed" >&2; exit 1; }
	@for k in $(ALL_KDIRS); do \
		$(MAKE) -s modules KDIR=$$k VNODE_TEST_HOOKS=$(or $(VNODE_TEST_HOOKS),1) || exit 1; \
	done

# The lab's debug kernel (docs/debug-kernel.md): Debian's kernel source,
# allnoconfig + scripts/debug-kernel.config, built and cached in
# build/debug-kernel/ (the stamp: nothing to do unless the fragment, the
# script or the tarball changed); then vnode's modules against it, with
# the test hooks as in modules-all.  VLAB_KERNEL=debug boots it.
DEBUG_DIR = $(BUILD)/debug-kernel
DEBUG_TARBALL = /usr/src/linux-source-6.1.tar.xz

debug-kernel: $(DEBUG_DIR)/built
	@$(MAKE) -s modules KDIR=$(DEBUG_DIR)/obj VNODE_TEST_HOOKS=$(or $(VNODE_TEST_HOOKS),1)

$(DEBUG_DIR)/built: $(ROOT)/scripts/debug-kernel.config $(ROOT)/scripts/debug-kernel \
		$(wildcard $(ROOT)/scripts/debug-kernel.patches/*.patch) \
		$(wildcard $(DEBUG_TARBALL))
	@BUILD=$(BUILD) DEBUG_KERNEL_TARBALL=$(DEBUG_TARBALL) $(ROOT)/scripts/debug-kernel
	@touch $@

userspace:
	@$(MAKE) -s -C $(ROOT)/userspace

# Test helper programs run inside lab guests (the tree is shared).
tools:
	@$(MAKE) -s -C $(ROOT)/tests/tools

check: deps
	@$(MAKE) -s modules-all userspace tools
	@$(ROOT)/tests/check

# The lab suite on the debug kernel (docs/debug-kernel.md): hours, not
# part of check.  Timeouts x10 (CHECK_SLOWDOWN), no time budget, and the
# fault-injection group, which runs only there.
check-debug: deps
	@$(MAKE) -s debug-kernel userspace tools
	@VLAB_KERNEL=debug CHECK_BUDGET=$${CHECK_BUDGET:-0} $(ROOT)/tests/check lab

check-unit: userspace
	@$(ROOT)/tests/check unit

demo: deps
	@$(MAKE) -s modules-all userspace tools
	@$(ROOT)/scripts/demo

# Benchmarks (not part of check): baselines are measured in the same run.
# Both benchmarks, each in a lab of its own (or on BENCH_HOSTS over ssh:
# docs/lab-servers.md); the second runs even if the first failed.
bench: deps
	@$(MAKE) -s modules-all userspace tools
	@rc=0; $(ROOT)/bench/run || rc=$$?; $(ROOT)/bench/stor || rc=$$?; exit $$rc

# make install: the modules (without the lab's test hooks, built apart in
# build/release/ so the lab's build stays as it is) for KDIR's kernel under
# DESTDIR/lib/modules/KVER/extra/vnode, and the tools, units, docs, man
# pages and completion under DESTDIR+PREFIX (userspace/Makefile).  depmod
# runs only for a real install (no DESTDIR).  Where DKMS already manages
# vnode's modules (the Debian package vnode-dkms), installing a second,
# unsigned copy beside them is refused: use install-tools.
RELEASE_BUILD = $(BUILD)/release
MOD_DIR = $(DESTDIR)/lib/modules/$(KVER)/extra/vnode

install: install-modules install-tools
uninstall: uninstall-tools uninstall-modules

install-modules:
	@if [ -z "$(DESTDIR)" ] && command -v dkms >/dev/null && \
	    dkms status vnode 2>/dev/null | grep -q .; then \
		echo "error: DKMS manages vnode's modules here ('dkms status vnode'): make install-tools, or 'dkms remove vnode/VERSION --all' first" >&2; \
		exit 1; fi
	@$(MAKE) -s modules BUILD=$(RELEASE_BUILD) VNODE_TEST_HOOKS=0
	@kv=$(KVER); $(MAKE) -s -C $(KDIR) M=$(RELEASE_BUILD)/$$kv \
		INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=extra/vnode \
		CONFIG_MODULE_SIG_ALL= DEPMOD=true modules_install
	@if [ -z "$(DESTDIR)" ]; then depmod -a $(KVER); fi

# extra/vnode is vnode's own (its layout and compression, .ko.xz on 6.12,
# are the kernel's modules_install's)
uninstall-modules:
	rm -rf $(MOD_DIR)
	@if [ -z "$(DESTDIR)" ]; then depmod -a $(KVER); fi

install-tools: userspace
	@$(MAKE) -s -C $(ROOT)/userspace install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

uninstall-tools:
	@$(MAKE) -s -C $(ROOT)/userspace uninstall PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

# Debian packages (debian/, docs/lab-servers.md): vnode-dkms and vnode-utils
# in build/deb/, built by dpkg-buildpackage from a copy of the tree (the
# files git knows, committed or not), then checked by lintian.
DEB_DIR = $(BUILD)/deb
deb:
	@command -v dpkg-buildpackage >/dev/null && command -v dh_dkms >/dev/null || \
		{ echo "error: make deb needs debhelper and dh-dkms (scripts/install-deps)" >&2; exit 1; }
	@v=$$(dpkg-parsechangelog -l $(ROOT)/debian/changelog -SVersion); \
	src=$(DEB_DIR)/vnode-$$v; rm -rf $(DEB_DIR); mkdir -p $$src && \
	cd $(ROOT) && git ls-files -z --cached --others --exclude-standard | \
		tar -c --null -T - | tar -x -C $$src && \
	cd $$src && dpkg-buildpackage -us -uc -b >$(DEB_DIR)/build.log 2>&1 || \
		{ tail -n 30 $(DEB_DIR)/build.log; echo "error: dpkg-buildpackage failed: $(DEB_DIR)/build.log" >&2; exit 1; }; \
	ls $(DEB_DIR)/*.deb; lintian --info $(DEB_DIR)/*.changes

clean:
	rm -rf $(ROOT)/build
	@$(MAKE) -s -C $(ROOT)/userspace clean
	@$(MAKE) -s -C $(ROOT)/tests/tools clean
