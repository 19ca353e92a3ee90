// fcontext_layout.h: deriving the saved-register layout of an fcontext_t.
#include "fcontext_layout.h"

#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <link.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include <boost/context/detail/fcontext.hpp>

#include "sanitizers.h"

extern "C" {
// The switch routines of Boost.Context (no CFI: unwinding stops there).
boost::context::detail::transfer_t jump_fcontext(boost::context::detail::fcontext_t, void*);
boost::context::detail::fcontext_t make_fcontext(void*, std::size_t,
                                                 void (*)(boost::context::detail::transfer_t));
boost::context::detail::transfer_t ontop_fcontext(boost::context::detail::fcontext_t, void*,
                                                  boost::context::detail::transfer_t (*)(
                                                      boost::context::detail::transfer_t));
// The self-test's probe (below): loads known values into the callee-saved
// registers and calls jump_fcontext, so the saved block can be decoded.
boost::context::detail::transfer_t tether_fcontext_probe(boost::context::detail::fcontext_t, void*);
extern char tether_fcontext_probe_ret[];     // the return address of its call
// Hidden: the probe addresses them PC-relative, which a shared libtether
// only allows for symbols that cannot be interposed.
extern __attribute__((visibility("hidden"))) std::uintptr_t tether_fcontext_probe_rsp;
extern __attribute__((visibility("hidden"))) std::uintptr_t tether_fcontext_probe_caller;
}

// The probe. Pushes the callee-saved registers, loads magic values, records
// the stack pointer and calls jump_fcontext; CFI describes the pushes so
// libunwind can step out of it during the self-test's check.
asm(R"(
  .text
  .p2align 4
  .globl tether_fcontext_probe
  .hidden tether_fcontext_probe
  .type tether_fcontext_probe,@function
tether_fcontext_probe:
  .cfi_startproc
  movq (%rsp), %rax
  movq %rax, tether_fcontext_probe_caller(%rip)
  pushq %rbp
  .cfi_adjust_cfa_offset 8
  .cfi_rel_offset %rbp, 0
  pushq %rbx
  .cfi_adjust_cfa_offset 8
  .cfi_rel_offset %rbx, 0
  pushq %r12
  .cfi_adjust_cfa_offset 8
  .cfi_rel_offset %r12, 0
  pushq %r13
  .cfi_adjust_cfa_offset 8
  .cfi_rel_offset %r13, 0
  pushq %r14
  .cfi_adjust_cfa_offset 8
  .cfi_rel_offset %r14, 0
  pushq %r15
  .cfi_adjust_cfa_offset 8
  .cfi_rel_offset %r15, 0
  subq $8, %rsp
  .cfi_adjust_cfa_offset 8
  movabsq $0x7e7e00000000b001, %rbx
  movabsq $0x7e7e00000000b002, %rbp
  movabsq $0x7e7e00000000b003, %r12
  movabsq $0x7e7e00000000b004, %r13
  movabsq $0x7e7e00000000b005, %r14
  movabsq $0x7e7e00000000b006, %r15
  movq %rsp, tether_fcontext_probe_rsp(%rip)
  call jump_fcontext@PLT
  .globl tether_fcontext_probe_ret
  .hidden tether_fcontext_probe_ret
tether_fcontext_probe_ret:
  addq $8, %rsp
  .cfi_adjust_cfa_offset -8
  popq %r15
  .cfi_adjust_cfa_offset -8
  popq %r14
  .cfi_adjust_cfa_offset -8
  popq %r13
  .cfi_adjust_cfa_offset -8
  popq %r12
  .cfi_adjust_cfa_offset -8
  popq %rbx
  .cfi_adjust_cfa_offset -8
  popq %rbp
  .cfi_adjust_cfa_offset -8
  ret
  .cfi_endproc
  .size tether_fcontext_probe,.-tether_fcontext_probe
)");

std::uintptr_t tether_fcontext_probe_rsp = 0;
std::uintptr_t tether_fcontext_probe_caller = 0;

namespace tether::detail {
namespace {

namespace ctx = boost::context::detail;

// ---- code ranges where the registers describe no fiber ----

struct Range {
  std::uintptr_t lo = 0, hi = 0;
  bool contains(std::uintptr_t pc) const noexcept { return pc >= lo && pc < hi; }
};
Range g_make, g_jump, g_ontop, g_probe;

Range symbol_range(void* addr) {
  Dl_info info;
  void* extra = nullptr;
  const auto a = reinterpret_cast<std::uintptr_t>(addr);
  const auto* sym = static_cast<const ElfW(Sym)*>(nullptr);
  if (dladdr1(addr, &info, &extra, RTLD_DL_SYMENT) &&
      (sym = static_cast<const ElfW(Sym)*>(extra)) != nullptr &&
      sym->st_size != 0) {
    const auto start = reinterpret_cast<std::uintptr_t>(info.dli_saddr);
    return {start, start + sym->st_size};
  }
  // Statically linked and not exported: the routines are < 0x80 bytes in
  // every Boost version so far.
  return {a, a + 0x80};
}

bool in_switch_range(std::uintptr_t pc) noexcept {
  return g_jump.contains(pc) || g_make.contains(pc) || g_ontop.contains(pc) ||
         g_probe.contains(pc);
}

// ---- the saved-register layout of an fcontext_t, derived by a self-test ----

struct Layout {
  bool known = false;
  int rbx = -1, rbp = -1, r12 = -1, r13 = -1, r14 = -1, r15 = -1, rip = -1;
  std::intptr_t rsp_delta = 0;  // RSP on resume - block address
};
Layout g_layout;

// Reads another context's stack, which ASan may still have poisoned from
// older frames: not instrumented.
__attribute__((no_sanitize_address)) void fill_context_from_block(const Layout& l, std::uintptr_t block, unw_context_t* uc) {
  std::memset(uc, 0, sizeof(*uc));
  auto word = [block](int off) { return *reinterpret_cast<const std::uintptr_t*>(block + off); };
  greg_t* g = uc->uc_mcontext.gregs;
  g[REG_RBX] = static_cast<greg_t>(word(l.rbx));
  g[REG_RBP] = static_cast<greg_t>(word(l.rbp));
  g[REG_R12] = static_cast<greg_t>(word(l.r12));
  g[REG_R13] = static_cast<greg_t>(word(l.r13));
  g[REG_R14] = static_cast<greg_t>(word(l.r14));
  g[REG_R15] = static_cast<greg_t>(word(l.r15));
  g[REG_RIP] = static_cast<greg_t>(word(l.rip));
  g[REG_RSP] = static_cast<greg_t>(block + l.rsp_delta);
}

struct ProbeState {
  SanitizerContext thread_san, probe_san;
  Layout found;
  std::uintptr_t caller_ret = 0;
};
ProbeState* g_probe_state = nullptr;

// Runs on the probe stack while the probing context is parked: decode its
// block, then prove the decoding by unwinding out of the probe.
// Reads the parked context's saved block on another stack: not instrumented.
__attribute__((no_sanitize("address"))) __attribute__((no_sanitize_address)) void probe_entry(ctx::transfer_t t) {
  ProbeState& ps = *g_probe_state;
  san_after_switch(ps.probe_san);
  const auto block = reinterpret_cast<std::uintptr_t>(t.fctx);
  Layout l;
  const std::uintptr_t ret = reinterpret_cast<std::uintptr_t>(tether_fcontext_probe_ret);
  for (int off = 0; off < 0x100; off += 8) {
    const std::uintptr_t v = *reinterpret_cast<const std::uintptr_t*>(block + off);
    switch (v) {
      case 0x7e7e00000000b001: l.rbx = off; break;
      case 0x7e7e00000000b002: l.rbp = off; break;
      case 0x7e7e00000000b003: l.r12 = off; break;
      case 0x7e7e00000000b004: l.r13 = off; break;
      case 0x7e7e00000000b005: l.r14 = off; break;
      case 0x7e7e00000000b006: l.r15 = off; break;
      default:
        if (v == ret && l.rip < 0) l.rip = off;
    }
  }
  l.rsp_delta = static_cast<std::intptr_t>(tether_fcontext_probe_rsp) -
                static_cast<std::intptr_t>(block);
  bool all = l.rbx >= 0 && l.rbp >= 0 && l.r12 >= 0 && l.r13 >= 0 && l.r14 >= 0 &&
             l.r15 >= 0 && l.rip >= 0 && l.rsp_delta > 0 && l.rsp_delta < 0x200;
  if (all) {
    unw_context_t uc;
    fill_context_from_block(l, block, &uc);
    unw_cursor_t cur;
    unw_word_t ip = 0;
    all = unw_init_local(&cur, &uc) == 0 && unw_get_reg(&cur, UNW_REG_IP, &ip) == 0 &&
          ip == ret && unw_step(&cur) > 0 && unw_get_reg(&cur, UNW_REG_IP, &ip) == 0 &&
          ip == tether_fcontext_probe_caller;
  }
  l.known = all;
  ps.found = l;
  san_before_switch(ps.probe_san, ps.thread_san, true);
  ctx::jump_fcontext(t.fctx, nullptr);
  __builtin_unreachable();
}

void run_layout_self_test() {
  constexpr std::size_t kSize = 64 * 1024;
  void* mem = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return;
  ProbeState ps;
  g_probe_state = &ps;
  sanitizer_thread_context(ps.thread_san);
  sanitizer_fiber_create(ps.probe_san, mem, kSize);
  ctx::fcontext_t c = ctx::make_fcontext(static_cast<char*>(mem) + kSize, kSize, probe_entry);
  san_before_switch(ps.thread_san, ps.probe_san, false);
  tether_fcontext_probe(c, nullptr);
  san_after_switch(ps.thread_san);
  sanitizer_fiber_destroy(ps.probe_san);
  g_probe_state = nullptr;
  munmap(mem, kSize);
  g_layout = ps.found;
}

std::once_flag g_once;

}  // namespace

void init_fcontext_layout() {
  std::call_once(g_once, [] {
    g_make = symbol_range(reinterpret_cast<void*>(&make_fcontext));
    g_jump = symbol_range(reinterpret_cast<void*>(&jump_fcontext));
    g_ontop = symbol_range(reinterpret_cast<void*>(&ontop_fcontext));
    g_probe = symbol_range(reinterpret_cast<void*>(&tether_fcontext_probe));
    run_layout_self_test();
  });
}

bool fcontext_layout_known() noexcept { return g_layout.known; }

bool in_switch_code(std::uintptr_t pc) noexcept { return in_switch_range(pc); }

bool in_make_fcontext(std::uintptr_t pc) noexcept { return g_make.contains(pc); }

std::uintptr_t saved_block_size() noexcept {
  const Layout& l = g_layout;
  const int last = std::max({l.rbx, l.rbp, l.r12, l.r13, l.r14, l.r15, l.rip});
  return static_cast<std::uintptr_t>(last + 8);
}

__attribute__((no_sanitize_address)) std::uintptr_t saved_pc(std::uintptr_t block) noexcept {
  return *reinterpret_cast<const std::uintptr_t*>(block + g_layout.rip);
}

void context_from_saved_block(std::uintptr_t block, ucontext_t* uc) noexcept {
  fill_context_from_block(g_layout, block, uc);
}

}  // namespace tether::detail
