// Marks a function as blocking its OS thread for `tether lint`
// (rule tether-blocking-call-on-shared-thread). GCC does not know the clang
// attribute, so it expands to nothing there.
#pragma once
#if defined(__clang__)
#define TETHER_BLOCKING [[clang::annotate("tether.blocking")]]
#else
#define TETHER_BLOCKING
#endif
