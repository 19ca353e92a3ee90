// pipeline: a pipeline of pool fibers and channels, and the orphan wait that
// an early return leaves behind.
//
// The story. A log importer reads lines, parses them in parallel, validates
// the records and sums them up per service:
//
//   source --lines--> parse x4 --parsed--> validate --valid--> aggregate --totals--> main
//                                (closer)             `--errors--> (buffered, read at the end)
//
// Every stage is a fiber on the worker pool; stages talk only through
// channels, and a stage ends its output by closing it (Go's `close(out)`),
// so the next stage's `for (x : in)` loop ends. The four parsers share one
// output: a WaitGroup counts them and a "closer" fiber closes "parsed" when
// the last one is done. Line 137 of the input is malformed.
//
// What to look at. Run it plain:
//     build/examples/pipeline
// it prints the totals and the one rejected record. The broken variant
// (--broken) has the most common real-world blocking bug, an *orphan wait*
// (most Go blocking bugs are not cycles: the fiber that should wake you has
// exited or moved on): on a bad record, "validate" reports the error and
// returns early, skipping its `valid.close()` at the end of the function.
//     build/cli/tether run --report r.json -- build/examples/pipeline --broken
// The stages upstream finish (the parsers' output holds a whole batch), but
// "aggregate" waits on chan "valid" forever, and the program never gets its
// totals. tether reports an orphan wait:
//     tether: deadlock (orphan wait): fiber N can never proceed
//       chain: fiber N "aggregate" -> chan M "valid"
//       why: fiber N (chan receive) can only be woken by no fiber that exists
// "validate", the only other user of "valid", has returned; the stack points
// at aggregate's `for` loop.
//
// The fix (the default): on a bad record, report it and skip to the next
// one; the close at the end of the function then runs on every path.
// (A scope guard that closes `valid` on every return is the other fix.)
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>

#include "tether/tether.h"

using namespace std::chrono_literals;

namespace {

constexpr int kLines = 400;
constexpr int kBadLine = 137;
const char* const kServices[] = {"auth", "billing", "search"};

struct Record {
  int line = 0;
  std::string service;
  long millis = -1;  // -1: did not parse
};

// "service=NAME ms=N"; the bad line has no number.
std::string make_line(int n) {
  if (n == kBadLine) return "service=billing ms=oops";
  return std::string("service=") + kServices[n % 3] + " ms=" + std::to_string(n % 17);
}

Record parse(int line, const std::string& text) {
  Record r;
  r.line = line;
  const auto s = text.find("service="), m = text.find(" ms=");
  if (s == std::string::npos || m == std::string::npos) return r;
  r.service = text.substr(s + 8, m - s - 8);
  const std::string num = text.substr(m + 4);
  if (!num.empty() && num.find_first_not_of("0123456789") == std::string::npos)
    r.millis = std::stol(num);
  return r;
}

struct Line {
  int n;
  std::string text;
};

void validate(tether::Chan<Record> in, tether::Chan<Record> out, tether::Chan<std::string> errors,
              bool broken) {
  for (Record& r : in) {
    if (r.millis < 0 || r.service.empty()) {
      errors.send("line " + std::to_string(r.line) + ": cannot parse the duration");
      if (broken) return;  // BUG: skips out.close() below: the next stage waits forever
      continue;
    }
    out.send(std::move(r));
  }
  out.close();
}

using Totals = std::map<std::string, long>;

// Starts every stage and returns, Go style (`func start(...) <-chan Totals`):
// afterwards each channel is held only by the stages that use it, which is
// also what lets tether tell exactly who could still wake whom.
void start_pipeline(bool broken, tether::Chan<Totals> totals, tether::Chan<std::string> errors) {
  tether::Chan<Line> lines(16, "lines");
  tether::Chan<Record> parsed(kLines, "parsed");  // holds a whole batch
  tether::Chan<Record> valid(0, "valid");

  tether::go(
      [=]() mutable {
        for (int n = 1; n <= kLines; ++n) lines.send({n, make_line(n)});
        lines.close();
      },
      {.name = "source"});

  auto parsers = std::make_shared<tether::WaitGroup>("parsers");
  for (int i = 0; i < 4; ++i) {
    parsers->add(1);
    tether::go(
        [=]() mutable {
          for (Line& l : lines) parsed.send(parse(l.n, l.text));
          parsers->done();
        },
        {.name = "parse"});
  }
  tether::go(
      [=]() mutable {
        parsers->wait();
        parsed.close();
      },
      {.name = "closer"});

  tether::go([=] { validate(parsed, valid, errors, broken); }, {.name = "validate"});

  tether::go(
      [=]() mutable {
        Totals sum;
        for (Record& r : valid) sum[r.service] += r.millis;
        totals.send(std::move(sum));
      },
      {.name = "aggregate"});
}

}  // namespace

int main(int argc, char** argv) {
  bool broken = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--broken") == 0) {
      broken = true;
    } else {
      std::fprintf(stderr, "usage: %s [--broken]\n", argv[0]);
      return 2;
    }
  }
  return tether::run([&] {
    tether::Chan<Totals> totals(1, "totals");
    tether::Chan<std::string> errors(kLines, "errors");  // never blocks a stage
    tether::go([=] { start_pipeline(broken, totals, errors); }, {.name = "importer"});
    int status = 1;
    tether::select(tether::recv(totals,
                                [&](std::optional<Totals> sum) {
                                  for (const auto& [service, ms] : sum.value_or(Totals{}))
                                    std::printf("pipeline: %-8s %5ld ms\n", service.c_str(), ms);
                                  status = 0;
                                }),
                   tether::after(3s, [] {
                     std::fprintf(stderr, "pipeline: no totals after 3 s; the pipeline is stuck\n");
                   }));
    while (auto e = errors.try_recv()) std::printf("pipeline: rejected %s\n", e->c_str());
    return status;
  });
}
