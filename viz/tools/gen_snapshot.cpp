// tether_viz_gen_snapshot N [DISTINCT]: prints a synthetic, valid snapshot
// with N fibers to stdout, for timing `tether viz` on large programs.
//
// Shape: a main thread, 8 locker threads, 4 pool threads, 100 channels and
// 16 mutexes. Fiber i uses one of DISTINCT (default 40) stack templates; the
// template decides its state, the object it waits on and (for a third of the
// templates) the locker it is locked to, so that fibers of one template are
// identical and collapse. Fibers 2 and 3 form an AB-BA lock cycle, reported
// as a deadlock. Deterministic: the same arguments give the same bytes.
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

constexpr long long kNow = 9'000'000'000'000LL;
constexpr int kLockers = 8, kPool = 4, kChans = 100, kMutexes = 16;

void loc(const char* key, int t, int line, bool comma = true) {
  std::printf(
      "\"%s\": {\"file\": \"src/module%d.cpp\", \"line\": %d, \"function\": "
      "\"module%d::step%d()\"}%s",
      key, t % 13, line, t % 13, t, comma ? ", " : "");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s FIBERS [DISTINCT_TEMPLATES]\n", argv[0]);
    return 2;
  }
  const long n = std::strtol(argv[1], nullptr, 10);
  const long distinct = argc == 3 ? std::strtol(argv[2], nullptr, 10) : 40;
  if (n < 4 || distinct < 1) {
    std::fprintf(stderr, "%s: need at least 4 fibers and 1 template\n", argv[0]);
    return 2;
  }
  std::printf(
      "{\"format\": \"tether-snapshot\", \"version\": 1, \"pid\": 77, \"program\": \"synthetic\", "
      "\"time_ns\": %lld,\n\"threads\": [\n",
      kNow);
  std::printf(
      "{\"id\": 1, \"name\": \"main\", \"kind\": \"main\", \"tid\": 77, \"running\": null, "
      "\"syscall\": null}");
  for (int t = 0; t < kLockers; ++t) {
    std::printf(
        ",\n{\"id\": %d, \"name\": \"locker%d\", \"kind\": \"locker\", \"tid\": %d, \"running\": "
        "null}",
        10 + t, t, 100 + t);
  }
  for (int t = 0; t < kPool; ++t) {
    std::printf(",\n{\"id\": %d, \"name\": \"pool%d\", \"kind\": \"pool\", \"tid\": %d}", 30 + t, t,
                200 + t);
  }
  std::printf("],\n\"fibers\": [\n");
  for (long i = 1; i <= n; ++i) {
    const long t = i % distinct;
    const bool locked = t % 3 == 0;
    const char* state = t % 4 == 0   ? "chan receive"
                        : t % 4 == 1 ? "chan send"
                        : t % 4 == 2 ? "mutex lock"
                                     : "runnable";
    std::string object = "null";
    if (i == 2 || i == 3) {
      state = "mutex lock";
      object = i == 2 ? "\"mutex:2001\"" : "\"mutex:2000\"";
    } else if (t % 4 == 0 || t % 4 == 1) {
      object = "\"chan:" + std::to_string(1000 + t % kChans) + "\"";
    } else if (t % 4 == 2) {
      object = "\"mutex:" + std::to_string(2002 + t % (kMutexes - 2)) + "\"";
    }
    std::printf(
        "%s{\"id\": %ld, \"name\": \"worker%ld\", \"state\": \"%s\", \"object\": %s, \"since_ns\": "
        "%lld, ",
        i == 1 ? "" : ",\n", i, t, state, object.c_str(), kNow - 1'000'000'000LL * (1 + t % 5));
    loc("site", static_cast<int>(t), 10 + static_cast<int>(t));
    loc("created_at", static_cast<int>(t), 5);
    std::printf("\"parent\": 1, \"locked_to\": %s, \"thread\": null, \"stack\": [",
                locked ? std::to_string(10 + t % kLockers).c_str() : "null");
    for (int f = 0; f < 6; ++f) {
      std::printf(
          "{\"function\": \"module%ld::frame%d()\", \"file\": \"src/module%ld.cpp\", \"line\": "
          "%d}%s",
          t, f, t % 13, 100 + f, f == 5 ? "" : ", ");
    }
    std::printf("]}");
  }
  std::printf("],\n\"objects\": [\n");
  for (int c = 0; c < kChans; ++c) {
    std::printf(
        "%s{\"id\": %d, \"kind\": \"chan\", \"name\": \"queue%d\", \"capacity\": %d, \"size\": 0, "
        "\"closed\": false, \"senders\": [], \"receivers\": []}",
        c == 0 ? "" : ",\n", 1000 + c, c, c % 3);
  }
  for (int m = 0; m < kMutexes; ++m) {
    std::printf(",\n{\"id\": %d, \"kind\": \"mutex\", \"name\": \"lock%d\", \"holder\": %s}",
                2000 + m, m,
                m == 0   ? "2"
                : m == 1 ? "3"
                         : "null");
  }
  std::printf("],\n\"edges\": [\n");
  std::printf(
      "{\"from\": \"mutex:2000\", \"to\": \"fiber:2\", \"kind\": \"held_by\"},\n"
      "{\"from\": \"mutex:2001\", \"to\": \"fiber:3\", \"kind\": \"held_by\"}");
  for (long i = 2; i <= n; ++i) {
    const long t = i % distinct;
    const bool waits = i == 2 || i == 3 || t % 4 != 3;
    std::string to;
    if (i == 2 || i == 3) {
      to = i == 2 ? "mutex:2001" : "mutex:2000";
    } else if (t % 4 == 0 || t % 4 == 1) {
      to = "chan:" + std::to_string(1000 + t % kChans);
    } else if (t % 4 == 2) {
      to = "mutex:" + std::to_string(2002 + t % (kMutexes - 2));
    }
    if (waits) {
      std::printf(
          ",\n{\"from\": \"fiber:%ld\", \"to\": \"%s\", \"kind\": \"waits_for\", \"since_ns\": "
          "%lld}",
          i, to.c_str(), kNow - 1'000'000'000LL * (1 + t % 5));
    }
    if (t % 3 == 0 && i != 2 && i != 3) {
      std::printf(",\n{\"from\": \"fiber:%ld\", \"to\": \"thread:%ld\", \"kind\": \"locked_to\"}",
                  i, 10 + t % kLockers);
    }
  }
  std::printf(
      "],\n\"deadlocks\": [{\"kind\": \"lock-cycle\", \"nodes\": [\"fiber:2\", \"mutex:2001\", "
      "\"fiber:3\", "
      "\"mutex:2000\"], \"explanation\": \"synthetic AB-BA cycle\"}]}\n");
  return 0;
}
