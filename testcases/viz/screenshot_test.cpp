// Renders one wait-for graph to SVG, has headless Chromium screenshot it,
// and checks the PNG is not blank and shows the red deadlock cycle.
//
// Exit status: 0 pass, 1 fail, 77 skip (chromium not installed; CTest
// SKIP_RETURN_CODE). Chromium is Debian's `chromium` package.
#include <png.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tether/graph/snapshot_reader.h"
#include "tether/viz/dot_writer.h"
#include "tether/viz/render.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;

std::string find_chromium() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    std::size_t start = 0;
    while (start <= dirs.size()) {
      const std::size_t end = std::min(dirs.find(':', start), dirs.size());
      const fs::path candidate = fs::path(dirs.substr(start, end - start)) / name;
      if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
      start = end + 1;
    }
  }
  return "";
}

// Runs argv, killing it after `timeout`; returns its exit status or -1.
int run(const std::vector<std::string>& args, std::chrono::seconds timeout) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      std::fprintf(stderr, "chromium did not finish in %lld s\n",
                   static_cast<long long>(timeout.count()));
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Image {
  std::uint32_t width = 0, height = 0;
  std::vector<std::uint8_t> rgba;
};

bool read_png(const fs::path& path, Image& img) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str())) {
    std::fprintf(stderr, "%s: not a PNG: %s\n", path.c_str(), image.message);
    return false;
  }
  image.format = PNG_FORMAT_RGBA;
  img.width = image.width;
  img.height = image.height;
  img.rgba.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, img.rgba.data(), 0, nullptr)) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), image.message);
    return false;
  }
  return true;
}

}  // namespace

int main() {
  const std::string chromium = find_chromium();
  if (chromium.empty()) {
    std::printf("SKIP: chromium is not installed (apt-get install -y chromium)\n");
    return 77;
  }
  char tmpl[] = "/tmp/tether-viz-shot-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path dir = tmpl;
  int rc = 1;
  try {
    const auto snap =
        tether::graph::read_snapshot(TETHER_VIZ_CASES_DIR "/snapshots/shared_thread_syscall.json");
    const std::string svg = tether::viz::render(tether::viz::to_dot(tether::graph::WaitGraph(snap)),
                                                tether::viz::Format::svg);
    std::ofstream(dir / "graph.svg", std::ios::binary) << svg;
    const fs::path shot = dir / "shot.png";
    const int status =
        run({chromium, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--user-data-dir=" + (dir / "profile").string(),
             "--hide-scrollbars", "--window-size=1400,1000", "--screenshot=" + shot.string(),
             "file://" + (dir / "graph.svg").string()},
            std::chrono::seconds(90));
    Image img;
    if (status != 0) {
      std::fprintf(stderr, "FAIL: chromium exited with %d\n", status);
    } else if (!read_png(shot, img)) {
      std::fprintf(stderr, "FAIL: no screenshot\n");
    } else {
      std::size_t ink = 0, red = 0;
      std::set<std::uint32_t> colours;
      for (std::size_t i = 0; i + 3 < img.rgba.size(); i += 4) {
        const int r = img.rgba[i], g = img.rgba[i + 1], b = img.rgba[i + 2];
        colours.insert(static_cast<std::uint32_t>(r << 16 | g << 8 | b));
        if (r < 240 || g < 240 || b < 240) ++ink;
        if (r > 180 && g < 60 && b < 60) ++red;  // the deadlock colour, #d00000
      }
      const std::size_t pixels = std::size_t{img.width} * img.height;
      std::printf("screenshot %ux%u: %zu non-white pixels (%.1f%%), %zu red, %zu colours\n",
                  img.width, img.height, ink,
                  100.0 * static_cast<double>(ink) / static_cast<double>(pixels), red,
                  colours.size());
      if (img.width != 1400 || img.height != 1000) {
        std::fprintf(stderr, "FAIL: unexpected size\n");
      } else if (ink < pixels / 100) {
        std::fprintf(stderr, "FAIL: the screenshot is blank\n");
      } else if (red < 200) {
        std::fprintf(stderr, "FAIL: the red deadlock cycle is not visible\n");
      } else if (colours.size() < 8) {
        std::fprintf(stderr, "FAIL: too few colours for a drawn graph\n");
      } else {
        rc = 0;
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FAIL: %s\n", e.what());
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return rc;
}
