// src/http/request.cpp — request's accessors and request_body.
#include "goro/http.hpp"
#include "http/url.hpp"

namespace goro::http {

std::size_t request_body::read(std::span<std::byte> buf, std::error_code& ec) noexcept {
  ec.clear();
  if (src_ == nullptr) return 0;
  return src_->read(buf, ec);
}

std::size_t request_body::read(std::span<std::byte> buf) {
  std::error_code ec;
  std::size_t n = read(buf, ec);
  if (ec) throw std::system_error(ec, "http: reading the request body");
  return n;
}

std::string request_body::read_all(std::error_code& ec) {
  std::string out;
  ec.clear();
  if (src_ == nullptr) return out;
  std::byte tmp[8192];
  for (;;) {
    std::size_t n = src_->read(tmp, ec);
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(tmp), n);
  }
  return out;
}

std::string request_body::read_all() {
  std::error_code ec;
  std::string s = read_all(ec);
  if (ec) throw std::system_error(ec, "http: reading the request body");
  return s;
}

std::string request::query(std::string_view name) const {
  // url.ParseQuery's first value for name: pairs split on '&', keys and
  // values query-unescaped; a pair that does not decode is skipped.
  std::string_view q = url.raw_query;
  while (!q.empty()) {
    std::size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    auto key = detail::query_unescape(pair.substr(0, eq));
    if (!key || *key != name) continue;
    if (eq == std::string_view::npos) return {};
    auto value = detail::query_unescape(pair.substr(eq + 1));
    if (value) return std::move(*value);
  }
  return {};
}

std::string_view request::path_value(std::string_view name) const noexcept {
  for (const auto& [k, v] : path_values_)
    if (k == name) return v;
  return {};
}

void request::set_path_value(std::string_view name, std::string_view value) {
  for (auto& [k, v] : path_values_)
    if (k == name) {
      v.assign(value);
      return;
    }
  path_values_.emplace_back(std::string(name), std::string(value));
}

}  // namespace goro::http
