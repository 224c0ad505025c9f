// error_channel — collect errors over a channel. Seed 000, "Step 3: Launch
// Goroutines and Handle Errors": "Use a sync.WaitGroup or a channel of
// results to collect errors. A common pattern is to create an error channel
// and have each goroutine send any error it encounters. The main goroutine
// can then read from the error channel and handle failures."
//
// The seed gives no code; in Go this is:
//
//   errs := make(chan error, len(files))
//   var wg sync.WaitGroup
//   for _, f := range files {
//       wg.Add(1)
//       go func(name string) {
//           defer wg.Done()
//           if err := process(name); err != nil {
//               errs <- err
//           }
//       }(f)
//   }
//   wg.Wait()
//   close(errs)
//   for err := range errs {
//       fmt.Println("error:", err)
//   }
//
// process fails for two of the six files (a std::string stands for error).
#include <goro/goro.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "demo.hpp"

using namespace std::chrono_literals;

namespace {

std::optional<std::string> process(const std::string& name) {
  goro::sleep(1ms);  // reading the file
  if (name.ends_with(".tmp")) return "process " + name + ": temporary file skipped";
  if (name.empty()) return std::string("process: empty file name");
  return std::nullopt;
}

}  // namespace

bool demo::error_channel_main() {
  const std::vector<std::string> files = {"a.txt", "b.txt", "c.tmp", "d.txt", "", "f.txt"};

  auto errs = goro::make_chan<std::string>(files.size());
  goro::wait_group wg;
  for (const std::string& f : files) {
    wg.add(1);
    goro::go(
        [&wg, errs](const std::string& name) {
          defer done([&] { wg.done(); });
          if (auto err = process(name)) {
            errs.send(std::move(*err));
          }
        },
        f);
  }
  wg.wait();
  errs.close();
  std::vector<std::string> got;
  for (std::string& err : errs) {
    std::printf("error: %s\n", err.c_str());
    got.push_back(err);
  }

  std::sort(got.begin(), got.end());
  return check(got == std::vector<std::string>{"process c.tmp: temporary file skipped", "process: empty file name"},
               "main collected exactly the 2 errors, after all 6 goroutines were done");
}
