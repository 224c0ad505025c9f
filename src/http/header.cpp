// src/http/header.cpp — http::header: a multimap with Go's canonical keys.
#include "goro/http.hpp"
#include "http/parse.hpp"

#include <algorithm>

namespace goro::http {

namespace {

// Compares k with a canonical key without building k's canonical form.
bool key_equal(std::string_view canonical, std::string_view k) noexcept {
  if (canonical.size() != k.size()) return false;
  for (std::size_t i = 0; i < k.size(); ++i) {
    unsigned char a = static_cast<unsigned char>(canonical[i]), b = static_cast<unsigned char>(k[i]);
    if (a == b) continue;
    if ((a | 0x20) != (b | 0x20) || (a | 0x20) < 'a' || (a | 0x20) > 'z') return false;
  }
  return true;
}

}  // namespace

std::string canonical_header_key(std::string_view k) {
  // textproto.CanonicalMIMEHeaderKey: a key with a byte that is not a token
  // character is returned unchanged.
  for (unsigned char c : k)
    if (!detail::is_token_char(c)) return std::string(k);
  std::string out(k);
  bool upper = true;
  for (char& c : out) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    else if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    upper = c == '-';
  }
  return out;
}

std::string_view header::get(std::string_view k) const noexcept {
  for (const auto& [key, value] : kv_)
    if (key_equal(key, k)) return value;
  return {};
}

std::vector<std::string_view> header::values(std::string_view k) const {
  std::vector<std::string_view> out;
  for (const auto& [key, value] : kv_)
    if (key_equal(key, k)) out.emplace_back(value);
  return out;
}

bool header::has(std::string_view k) const noexcept {
  for (const auto& kv : kv_)
    if (key_equal(kv.first, k)) return true;
  return false;
}

void header::set(std::string_view k, std::string_view v) {
  std::string key = canonical_header_key(k);
  auto it = std::find_if(kv_.begin(), kv_.end(), [&](const value_type& kv) { return kv.first == key; });
  if (it == kv_.end()) {
    kv_.emplace_back(std::move(key), std::string(v));
    return;
  }
  it->second.assign(v);
  kv_.erase(std::remove_if(it + 1, kv_.end(), [&](const value_type& kv) { return kv.first == key; }), kv_.end());
}

void header::add(std::string_view k, std::string_view v) { kv_.emplace_back(canonical_header_key(k), std::string(v)); }

void header::del(std::string_view k) noexcept {
  kv_.erase(std::remove_if(kv_.begin(), kv_.end(), [&](const value_type& kv) { return key_equal(kv.first, k); }),
            kv_.end());
}

}  // namespace goro::http
