// gui_main_thread: a "main thread" service. Many fibers, one thread-affine toolkit.
//
// The story. GUI toolkits (Cocoa, GTK, Win32, most OpenGL drivers) must be
// called from the one thread that created them. "Toy" below is such a toolkit:
// every call checks that it runs on its owner thread and aborts otherwise, as
// Cocoa does. The app around it:
//  - fiber 1, on the process's main thread, creates the toolkit and runs its
//    event loop: `for (Event& e : toy.events())`.
//  - four "download" fibers on the worker pool fetch files (here: sleep) and
//    report progress with `ui.call(...)`: the lambda hops onto the main
//    thread, runs there, and its result (is the window still open?) comes
//    back. No callback queue, no mutex around the toolkit. (In Go this is a
//    "syscall server" goroutine: two OS thread wake-ups per call.)
//  - "spinner", a fiber locked to the main thread with `ui.go(...)`, animates
//    a widget. It calls the toolkit directly (it runs on the main thread) and
//    sleeps between frames; sleeping parks the fiber, not the thread.
//  - clicking Paste starts "paste", another fiber locked to the main thread.
//    The clipboard works as in X11: the request goes to the selection's owner
//    (this very app, whose event loop answers it) and the answer comes back
//    through a pipe, which the requester reads.
//
// What to look at. Run it plain and it prints what every fiber did, with
// every toolkit call made on the main thread:
//     build/examples/gui_main_thread
// The broken variant (--broken) reads the clipboard pipe with a blocking
// read() while still locked to the main thread:
//     build/cli/tether run --report r.json --svg gui.svg -- build/examples/gui_main_thread --broken
// The read occupies the main thread, so the event loop (fiber 1), the only
// fiber that would write the answer, never runs again, and neither do the
// spinner and the downloads' ui.call()s. This is the review's objection to N
// fibers on one thread: "the one goroutine in a thread was blocked in a
// system call and stopping the other from running (and maybe it was going to
// wake up the system call by its actions)". Every fiber is stuck, so the
// runtime prints "fatal error: all fibers are asleep - deadlock!" and the
// set, whose chain reads
//     fiber 1 "main" -> thread "main" -> fiber N "paste"
// with "paste" [syscall, locked to thread "main"] waiting in read(fd, other
// end fd) at its line, and every other fiber (the spinner, the downloads and
// their "call:main" fibers, "user") waiting for thread "main". In the SVG,
// the main thread's cluster holds them all, with "paste" and its read() in
// red.
//
// The fix (the default): leave the main thread for the blocking part.
// `ui.unlock()` moves "paste" to the worker pool for the read, and `ui.lock()`
// brings it back to update the window, in direct style, with no callback.
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tether/tether.h"

using namespace std::chrono_literals;

namespace {

int current_tid() {
  return static_cast<int>(::syscall(SYS_gettid));
}

// What the toolkit's event queue carries.
struct Event {
  enum Kind { click, clipboard_request, quit } kind = quit;
  std::string button;  // click
  int reply_fd = -1;   // clipboard_request: where the selection's owner writes the text
};

// A toy GUI toolkit with thread affinity. Only post() may be called from any
// thread (like PostMessage or g_idle_add); everything else must run on the
// thread that constructed it.
class Toy {
 public:
  Toy() : owner_(current_tid()), events_(64, "toy-events") {}

  int create_window(std::string title) {
    check("create_window");
    windows_.push_back({std::move(title), {}});
    return static_cast<int>(windows_.size()) - 1;
  }
  // Returns whether the window is still open (a download stops if not).
  bool set_label(int window, std::string text) {
    check("set_label");
    windows_.at(window).label = std::move(text);
    ++redraws_;
    return true;
  }
  const std::string& label(int window) {
    check("label");
    return windows_.at(window).label;
  }
  void draw_spinner() {
    check("draw_spinner");
    ++frames_;
  }

  // The event queue. post() is the one thread-safe entry point.
  void post(Event e) { events_.send(std::move(e)); }
  tether::Chan<Event>& events() {
    check("events");
    return events_;
  }

  // X11-style clipboard: the request is an event for the selection's owner,
  // the answer arrives on the returned descriptor (read it to EOF).
  int request_clipboard() {
    check("request_clipboard");
    int fds[2];
    if (tether::sys::pipe(fds) != 0) {
      std::perror("pipe");
      std::exit(1);
    }
    post({Event::clipboard_request, {}, fds[1]});
    return fds[0];
  }
  void answer_clipboard(int fd, const std::string& text) {
    check("answer_clipboard");
    tether::sys::write(fd, text.data(), text.size());
    tether::sys::close(fd);
  }

  int redraws() const { return redraws_; }
  int frames() const { return frames_; }

 private:
  void check(const char* call) const {
    const int tid = current_tid();
    if (tid == owner_) return;
    std::fprintf(stderr, "toy: %s called on thread %d; the toolkit belongs to thread %d\n", call,
                 tid, owner_);
    std::abort();
  }

  struct Window {
    std::string title, label;
  };
  const int owner_;
  tether::Chan<Event> events_;
  std::vector<Window> windows_;
  int redraws_ = 0;
  int frames_ = 0;
};

// Reads fd to EOF with the runtime's read(), which records the wait.
std::string read_all(int fd) {
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = tether::sys::read(fd, buf, sizeof buf)) > 0) out.append(buf, n);
  tether::sys::close(fd);
  return out;
}

// The Paste button's handler, a fiber locked to the main thread.
void paste(Toy& toy, tether::ThreadLocker ui, int window, bool broken,
           tether::Chan<std::string> pasted) {
  const int fd = toy.request_clipboard();
  std::string text;
  if (broken) {
    text = read_all(fd);  // BUG: blocks the main thread; the answer needs it
  } else {
    ui.unlock();  // to the worker pool: the main thread stays free
    text = read_all(fd);
    ui.lock();  // back on the main thread: the toolkit may be called again
  }
  toy.set_label(window, "pasted: " + text);
  pasted.send(text);
}

int app(bool broken) {
  tether::ThreadLocker ui = tether::ThreadLocker::main();
  Toy toy;  // fiber 1 runs on the main thread: the toolkit belongs to it
  const int editor = toy.create_window("editor");
  std::atomic<bool> quitting{false};

  // The spinner: locked to the main thread, calls the toolkit directly.
  tether::FiberRef spinner = ui.go(
      [&] {
        while (!quitting.load()) {
          toy.draw_spinner();
          tether::sleep_for(2ms);
        }
      },
      {.name = "spinner"});

  // Downloads on the pool, reporting progress through ui.call().
  constexpr int kDownloads = 4, kChunks = 20;
  tether::WaitGroup downloads("downloads");
  std::atomic<int> calls{0};
  for (int d = 0; d < kDownloads; ++d) {
    const int window = toy.create_window("download " + std::to_string(d));
    downloads.add(1);
    tether::go(
        [&, window] {
          for (int chunk = 1; chunk <= kChunks; ++chunk) {
            tether::sleep_for(1ms);  // "network"
            const bool open = ui.call(
                [&] { return toy.set_label(window, std::to_string(chunk * 100 / kChunks) + "%"); });
            calls.fetch_add(1);
            if (!open) break;
          }
          downloads.done();
        },
        {.name = "download"});
  }

  // The user: clicks Paste during the downloads, quits when all is done.
  tether::Chan<std::string> pasted(1, "pasted");
  tether::go(
      [&] {
        tether::sleep_for(5ms);
        toy.post({Event::click, "paste", -1});
        downloads.wait();
        pasted.recv();
        toy.post({Event::quit, {}, -1});
      },
      {.name = "user"});

  // The event loop. Everything it calls runs on the main thread.
  std::string clipboard = "hello from the clipboard";
  for (Event& e : toy.events()) {
    if (e.kind == Event::quit) break;
    if (e.kind == Event::clipboard_request) {
      toy.answer_clipboard(e.reply_fd, clipboard);
    } else if (e.button == "paste") {
      ui.go([&toy, ui, editor, broken, pasted] { paste(toy, ui, editor, broken, pasted); },
            {.name = "paste"});
    }
  }
  quitting = true;
  spinner.join();

  std::printf("gui: %d downloads, %d progress updates through ui.call()\n", kDownloads,
              calls.load());
  std::printf("gui: editor says \"%s\"\n", toy.label(editor).c_str());
  std::printf("gui: %d redraws and %d spinner frames, every toolkit call on the main thread\n",
              toy.redraws(), toy.frames());
  return 0;
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
  return tether::run([&] { return app(broken); });
}
