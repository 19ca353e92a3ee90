// cli/exit_codes.h — the exit statuses of `tether` (docs/exit-codes.md).
//
// All subcommands: 0 clean, 1 findings, 2 usage or input error. `tether run`
// otherwise passes the program's own status through, 128+N when it died of
// signal N (as a shell reports it), and kTimedOut when --timeout expired.
#pragma once

namespace tether::cli {

inline constexpr int kExitClean = 0;
inline constexpr int kExitFindings = 1;  // a deadlock, lint warnings
inline constexpr int kExitUsage = 2;     // bad option, unreadable input, program not runnable
// `tether run --timeout` expired (the same value as timeout(1), so scripts
// that already understand timeout(1) need no change).
inline constexpr int kExitTimedOut = 124;
// `tether run`: the runtime reported a deadlock (TSan's convention of a
// distinctive status; 66 = the runtime wrote to TETHER_REPORT_FILE).
inline constexpr int kExitDeadlock = 66;
// `tether run`: the program died of signal N -> 128 + N.
inline constexpr int kExitSignalBase = 128;

}  // namespace tether::cli
