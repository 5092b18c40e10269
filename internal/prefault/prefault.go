// Package prefault maps, as ipabr starts, pages that every run touches
// anyway, in two system calls instead of a page fault each: the binary's
// code, and the first MiB of the Go heap above where it stands. On the
// virtual machines this project is measured on a page fault costs about
// 20 µs, and `ipabr version` used to take some 450 of them, a third of its
// time (CONTRIBUTING.md, Benchmarks).
//
// It is imported for its init alone. Importing only syscall and unsafe, it
// is initialised early, before the libraries' packages whose
// initialisation the faults slowed. IPABR_PREFAULT=0 turns it off.
package prefault
