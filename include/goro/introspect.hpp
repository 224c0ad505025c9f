// goro/introspect.hpp — read-only views of the scheduler, for tests, tools
// and the curious. Not needed by ordinary programs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace goro::introspect {

// How many times each processor has started running a goroutine since the
// current run() began (index = processor id). Empty when no runtime runs.
std::vector<std::uint64_t> processor_run_counts();

// The processor the calling goroutine runs on, or -1 on a plain thread.
int current_processor() noexcept;

// OS threads (Ms) the current runtime has started, the caller of run() included.
std::size_t os_threads();

// Default stack reservation of the current runtime, in bytes.
std::size_t default_stack_size() noexcept;

// Spare processors: lent by the system monitor while goroutines compute
// without scheduling points (made: how many exist this run; lent: how many
// are held by a thread now, the rest waiting to be lent again).
struct spare_processors_info {
  int made = 0;
  int lent = 0;
};
spare_processors_info spare_processors();

// Timers waiting in the processors' heaps now: goro::timer, ticker and
// after_func timers, sleeps, context deadlines and I/O deadlines that have
// neither fired nor been stopped. 0 when no runtime runs.
std::size_t pending_timers();

}  // namespace goro::introspect
