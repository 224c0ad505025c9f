// child_process.hpp — runs one of the tools' helper programs as a child
// process and collects its stdout, stderr and exit status.
//
// The deadlock detector, SIGQUIT and the sanitizers end (or judge) the whole
// process, so the tests in tests/tools/ run small goro programs as children
// (posix_spawn, no shell), read both pipes with poll(), and kill a child that
// outlives its time limit (a missing deadlock report would otherwise hang the
// test until ctest's own timeout). A callback sees stdout as it arrives, so a
// test can signal the child once it printed "ready".
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

extern char** environ;

namespace goro_tools {

struct child_result {
  bool started = false;    // posix_spawn succeeded
  bool timed_out = false;  // killed after the time limit
  int exit_code = -1;      // WEXITSTATUS, or -1 when killed by a signal
  int term_signal = 0;     // the signal that ended it, or 0
  std::string out, err;
  double seconds = 0;  // wall time from spawn to exit

  // For failure messages: how it ended, then its output.
  std::string describe() const {
    std::string s;
    if (!started) return "the child could not be started";
    if (timed_out) s += "TIMED OUT (killed); ";
    if (term_signal) s += "killed by signal " + std::to_string(term_signal) + "; ";
    else s += "exit status " + std::to_string(exit_code) + "; ";
    s += "ran " + std::to_string(seconds) + " s\n--- stdout (first 2000 bytes) ---\n" + out.substr(0, 2000) +
         "\n--- stderr (first 6000 bytes) ---\n" + err.substr(0, 6000);
    return s;
  }
};

struct child_options {
  // Extra environment entries "NAME=value" (they replace inherited ones).
  std::vector<std::string> env;
  std::chrono::milliseconds timeout{std::chrono::seconds(40)};
  // Called after each chunk of stdout with everything read so far.
  std::function<void(pid_t pid, const std::string& out)> on_stdout;
};

inline child_result run_child(const std::vector<std::string>& args, const child_options& opts = {}) {
  child_result r;
  const auto t0 = std::chrono::steady_clock::now();
  int out_fds[2], err_fds[2];
  if (pipe2(out_fds, O_CLOEXEC) != 0) return r;
  if (pipe2(err_fds, O_CLOEXEC) != 0) {
    ::close(out_fds[0]);
    ::close(out_fds[1]);
    return r;
  }
  // The environment: ours, minus the names opts.env sets, plus opts.env.
  std::vector<std::string> env_store;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    bool replaced = false;
    for (const auto& o : opts.env) {
      auto eq = o.find('=');
      if (kv.substr(0, kv.find('=')) == std::string_view(o).substr(0, eq)) replaced = true;
    }
    if (!replaced) env_store.emplace_back(kv);
  }
  for (const auto& o : opts.env) env_store.push_back(o);
  std::vector<char*> envp, argv;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> arg_store(args);
  for (auto& s : arg_store) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_fds[1], 2);
  pid_t pid = -1;
  int err = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(out_fds[1]);
  ::close(err_fds[1]);
  if (err != 0) {
    ::close(out_fds[0]);
    ::close(err_fds[0]);
    r.err = std::string("posix_spawn: ") + std::strerror(err);
    return r;
  }
  r.started = true;
  const auto deadline = t0 + opts.timeout;
  pollfd pf[2] = {{out_fds[0], POLLIN, 0}, {err_fds[0], POLLIN, 0}};
  int open = 2;
  while (open > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      if (!r.timed_out) {
        r.timed_out = true;
        ::kill(pid, SIGKILL);
      }
      left = std::chrono::milliseconds(1000);  // drain what the killed child left
    }
    int n = ::poll(pf, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (r.timed_out) break;
      continue;
    }
    for (int i = 0; i < 2; ++i) {
      if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      ssize_t k = ::read(pf[i].fd, buf, sizeof buf);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) {
        ::close(pf[i].fd);
        pf[i].fd = -1;
        --open;
        continue;
      }
      (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(k));
      if (i == 0 && opts.on_stdout) opts.on_stdout(pid, r.out);
    }
  }
  for (auto& p : pf)
    if (p.fd >= 0) ::close(p.fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.term_signal = WTERMSIG(status);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

// How many times `needle` occurs in `hay`.
inline std::size_t count_of(std::string_view hay, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = hay.find(needle); at != std::string_view::npos; at = hay.find(needle, at + needle.size())) ++n;
  return n;
}

// The lines of `text` (without their '\n').
inline std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> v;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    v.push_back(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  }
  return v;
}

// A header's state without the wait time Go appends once a goroutine has
// been parked for a minute or more ("chan receive, 3 minutes"): a slow run
// (a sanitizer build on a busy machine) may reach it, so every check of a
// state accepts it. "1 minute" is accepted as well as Go's "1 minutes".
inline std::string_view state_without_wait_time(std::string_view state) {
  const std::size_t comma = state.rfind(", ");
  if (comma == std::string_view::npos) return state;
  std::string_view rest = state.substr(comma + 2);
  std::size_t i = 0;
  while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') ++i;
  if (i == 0) return state;
  rest = rest.substr(i);
  return rest == " minute" || rest == " minutes" ? state.substr(0, comma) : state;
}

// True when `line` is a goroutine header "goroutine <N> [<state>]:" (any
// state when `state` is null; the wait time ", W minutes" allowed after it),
// for goroutine `id` when `id` is not negative.
inline bool is_header(std::string_view line, const char* state = nullptr, long long id = -1) {
  constexpr std::string_view kPrefix = "goroutine ";
  if (line.substr(0, kPrefix.size()) != kPrefix) return false;
  std::size_t i = kPrefix.size();
  std::size_t digits = i;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9') ++i;
  if (i == digits || line.substr(i, 2) != " [" || line.substr(line.size() - 2) != "]:") return false;
  if (id >= 0 && line.substr(digits, i - digits) != std::to_string(id)) return false;
  return !state || state_without_wait_time(line.substr(i + 2, line.size() - i - 4)) == state;
}

// True when the first line of `text` is such a header.
inline bool starts_with_header(std::string_view text, long long id, const char* state) {
  return is_header(text.substr(0, text.find('\n')), state, id);
}

// How many goroutine headers (with that state) `text` has.
inline std::size_t count_headers(std::string_view text, const char* state = nullptr) {
  std::size_t n = 0;
  for (std::string_view l : lines_of(text)) n += is_header(l, state);
  return n;
}

// True when `text` has the header of goroutine `id` with that state (a line
// of its own, the wait time allowed).
inline bool has_header(std::string_view text, long long id, const char* state) {
  const std::string start = "goroutine " + std::to_string(id) + " [";
  for (std::size_t at = text.find(start); at != std::string_view::npos; at = text.find(start, at + 1)) {
    if (at != 0 && text[at - 1] != '\n') continue;
    if (starts_with_header(text.substr(at), id, state)) return true;
  }
  return false;
}

// How many times `text` has "<file>:<line>" not followed by another digit
// (a stack frame's location).
inline std::size_t count_location(std::string_view text, std::string_view file, int line) {
  const std::string needle = std::string(file) + ":" + std::to_string(line);
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + 1)) {
    std::size_t end = at + needle.size();
    if (end == text.size() || text[end] < '0' || text[end] > '9') ++n;
  }
  return n;
}

// The "created by" entries of a dump: the line "created by F in goroutine M"
// (and its ` as "name"` suffix) and the location line after it.
struct created_by {
  std::string_view line;      // created by ...
  std::string_view location;  // <tab>file:line
};
inline std::vector<created_by> created_by_entries(std::string_view text) {
  std::vector<created_by> v;
  std::vector<std::string_view> ls = lines_of(text);
  for (std::size_t i = 0; i < ls.size(); ++i)
    if (ls[i].substr(0, 11) == "created by ") v.push_back({ls[i], i + 1 < ls.size() ? ls[i + 1] : std::string_view()});
  return v;
}

}  // namespace goro_tools
