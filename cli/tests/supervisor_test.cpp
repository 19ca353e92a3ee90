// Unit tests of cli/supervisor.h on standard programs (/bin/sh, true); the
// end-to-end behaviour of `tether run` is tested in testcases/cli.
#include "supervisor.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

namespace tether::cli {
namespace {

using namespace std::chrono_literals;
using Outcome = SuperviseResult::Outcome;

SuperviseResult sh(const std::string& script, std::vector<std::string> env = {}) {
  std::string error;
  SuperviseOptions o;
  o.path = resolve_program("sh", &error).value();
  o.argv = {"sh", "-c", script};
  o.env = std::move(env);
  return supervise(o);
}

TEST(ResolveProgram, FindsInPathAndKeepsSlashes) {
  std::string error;
  const auto sh_path = resolve_program("sh", &error);
  ASSERT_TRUE(sh_path) << error;
  EXPECT_EQ(sh_path->front(), '/');
  EXPECT_EQ(resolve_program("/bin/sh", &error), "/bin/sh");
}

TEST(ResolveProgram, ExplainsFailures) {
  std::string error;
  EXPECT_FALSE(resolve_program("/nonexistent/prog", &error));
  EXPECT_NE(error.find("/nonexistent/prog: No such file"), std::string::npos) << error;
  EXPECT_FALSE(resolve_program("tether-no-such-program-xyz", &error));
  EXPECT_NE(error.find("not found in PATH"), std::string::npos) << error;
  EXPECT_FALSE(resolve_program("/", &error));
  EXPECT_NE(error.find("is a directory"), std::string::npos) << error;
  EXPECT_FALSE(resolve_program("", &error));

  char name[] = "/tmp/tether_supervisor_test_XXXXXX";
  const int fd = mkstemp(name);
  ASSERT_GE(fd, 0);
  close(fd);
  chmod(name, 0644);  // no x bit at all: not even root may execute it
  EXPECT_FALSE(resolve_program(name, &error));
  EXPECT_NE(error.find("not executable"), std::string::npos) << error;
  unlink(name);
}

TEST(Supervise, PassesExitStatus) {
  const SuperviseResult r = sh("exit 3");
  EXPECT_EQ(r.outcome, Outcome::exited);
  EXPECT_EQ(r.exit_status, 3);
  EXPECT_FALSE(r.timed_out);
}

TEST(Supervise, ReportsDeathBySignal) {
  const SuperviseResult r = sh("kill -USR2 $$");
  EXPECT_EQ(r.outcome, Outcome::signaled);
  EXPECT_EQ(r.signal, SIGUSR2);
  EXPECT_EQ(signal_name(r.signal), "SIGUSR2");
}

TEST(Supervise, SetsAndReplacesEnvironment) {
  setenv("TETHER_SUPERVISOR_TEST", "old", 1);
  const SuperviseResult r = sh("test \"$TETHER_SUPERVISOR_TEST\" = new && test \"$HOME\" = \"" +
                                   std::string(getenv("HOME") ? getenv("HOME") : "") + "\"",
                               {"TETHER_SUPERVISOR_TEST=new"});
  EXPECT_EQ(r.outcome, Outcome::exited);
  EXPECT_EQ(r.exit_status, 0);
  unsetenv("TETHER_SUPERVISOR_TEST");
}

TEST(Supervise, TimeoutSendsQuitThenKill) {
  std::string error;
  SuperviseOptions o;
  o.path = resolve_program("sh", &error).value();
  // Ignores SIGQUIT, so only SIGKILL ends it.
  o.argv = {"sh", "-c", "trap '' QUIT; while :; do sleep 0.05; done"};
  o.timeout = 200ms;
  o.kill_after = 200ms;
  const auto start = std::chrono::steady_clock::now();
  const SuperviseResult r = supervise(o);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r.timed_out);
  EXPECT_TRUE(r.sent_kill);
  EXPECT_EQ(r.outcome, Outcome::signaled);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_GE(took, 400ms);
  EXPECT_LT(took, 20s);
}

TEST(Supervise, TimeoutQuitIsEnoughForAQuitHandler) {
  std::string error;
  SuperviseOptions o;
  o.path = resolve_program("sh", &error).value();
  o.argv = {"sh", "-c", "trap 'exit 7' QUIT; while :; do sleep 0.05; done"};
  o.timeout = 200ms;
  o.kill_after = 30s;
  const SuperviseResult r = supervise(o);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.sent_kill);
  EXPECT_EQ(r.outcome, Outcome::exited);
  EXPECT_EQ(r.exit_status, 7);
}

TEST(Supervise, ExecFailureIsAnOutcome) {
  SuperviseOptions o;
  o.path = "/nonexistent/prog";
  o.argv = {"prog"};
  const SuperviseResult r = supervise(o);
  EXPECT_EQ(r.outcome, Outcome::exec_failed);
  EXPECT_NE(r.error.find("No such file"), std::string::npos) << r.error;
}

TEST(Supervise, ForwardsSignalsFromOtherProcesses) {
  // The child reports readiness through a file, then its parent (us, the
  // supervisor) gets SIGUSR1 from a helper process; the child must see it.
  char dir[] = "/tmp/tether_forward_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string ready = std::string(dir) + "/ready";
  const pid_t self = getpid();
  const pid_t helper = fork();
  if (helper == 0) {
    for (int i = 0; i < 2000 && access(ready.c_str(), F_OK) != 0; ++i) usleep(5000);
    kill(self, SIGUSR1);
    _exit(0);
  }
  const SuperviseResult r =
      sh("trap 'exit 42' USR1; touch " + ready +
         "; i=0; while [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; exit 1");
  int status = 0;
  waitpid(helper, &status, 0);
  EXPECT_EQ(r.outcome, Outcome::exited);
  EXPECT_EQ(r.exit_status, 42);
  unlink(ready.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace tether::cli
