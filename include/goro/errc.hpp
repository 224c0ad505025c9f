// goro/errc.hpp — goro's error codes, with Go's messages.
#pragma once

#include <system_error>
#include <type_traits>

namespace goro {

enum class errc {
  canceled = 1,           // "context canceled"; equals std::errc::operation_canceled
  deadline_exceeded = 2,  // "context deadline exceeded"; equals std::errc::timed_out
  closed = 3,             // "use of closed network connection"
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }
inline std::error_condition make_error_condition(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

}  // namespace goro

template <>
struct std::is_error_code_enum<goro::errc> : std::true_type {};
