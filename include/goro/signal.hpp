// goro/signal.hpp — Go's os/signal: signals delivered as values on channels.
#pragma once

#include <initializer_list>

#include <goro/chan.hpp>
#include <goro/context.hpp>

namespace goro {

// signal.Notify(ch, sigs...): each listed signal is sent on ch (without
// blocking: a full channel drops it, so give ch a buffer). The handler only
// writes to a pipe; a runtime thread turns that into channel sends.
void notify_signals(const chan<int>& ch, std::initializer_list<int> sigs);
// signal.Stop(ch): no more deliveries to ch.
void stop_signals(const chan<int>& ch);
// signal.NotifyContext: a context cancelled on the first listed signal.
[[nodiscard]] cancel_pair notify_context(const context& parent, std::initializer_list<int> sigs);

}  // namespace goro
