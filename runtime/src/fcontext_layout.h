// The saved-register block of a parked Boost.Context fcontext_t (internal).
//
// jump_fcontext pushes the callee-saved registers and the return address on
// the stack it leaves and returns that stack pointer as the fcontext_t. The
// order of that block differs between Boost versions and builds, so it is
// not assumed: init_fcontext_layout() derives it once at start-up from a
// probe that loads known values into RBX, RBP and R12-R15 before switching,
// then proves the result by unwinding out of the probe with libunwind. If
// that fails, parked fibers are reported without stacks rather than unwound
// from guesses.
#pragma once

#include <ucontext.h>

#include <cstdint>

namespace tether::detail {

// Runs the self-test and records the switch routines' code ranges. Once.
void init_fcontext_layout();

// Whether the self-test succeeded.
bool fcontext_layout_known() noexcept;

// pc lies in make_fcontext/jump_fcontext/ontop_fcontext (or the probe): the
// registers there describe no fiber, and a return address there is the
// bottom of a fiber's stack.
bool in_switch_code(std::uintptr_t pc) noexcept;
// pc lies in make_fcontext: a context that has never run.
bool in_make_fcontext(std::uintptr_t pc) noexcept;

// The bytes of the block that hold saved registers (layout known).
std::uintptr_t saved_block_size() noexcept;
// The return address saved in the block (layout known).
std::uintptr_t saved_pc(std::uintptr_t block) noexcept;
// A register context (libunwind's unw_context_t is a ucontext_t on x86_64)
// equal to the parked context's at the point it will resume.
void context_from_saved_block(std::uintptr_t block, ucontext_t* uc) noexcept;

}  // namespace tether::detail
