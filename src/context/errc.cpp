#include "goro/errc.hpp"

#include <string>

namespace goro {

namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "goro"; }
  std::string message(int c) const override {
    switch (static_cast<errc>(c)) {
      case errc::canceled: return "context canceled";
      case errc::deadline_exceeded: return "context deadline exceeded";
      case errc::closed: return "use of closed network connection";
    }
    return "goro error " + std::to_string(c);
  }
  // canceled == std::errc::operation_canceled, deadline_exceeded == std::errc::timed_out.
  bool equivalent(int c, const std::error_condition& cond) const noexcept override {
    if (cond.category() == *this) return cond.value() == c;
    switch (static_cast<errc>(c)) {
      case errc::canceled: return cond == std::errc::operation_canceled;
      case errc::deadline_exceeded: return cond == std::errc::timed_out;
      default: return false;
    }
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const category c;
  return c;
}

}  // namespace goro
