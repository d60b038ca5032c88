#include "proto/query.hpp"

#include <array>
#include <boost/url/decode_view.hpp>
#include <boost/url/encoding_opts.hpp>
#include <boost/url/pct_string_view.hpp>
// Boost.URL without its compiled library: its sources are built here, in this one place only.
#include <boost/url/src.hpp>
#include <span>

namespace hostprint::proto {
namespace {


bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  while (i < s.size()) {
    unsigned char c = p[i];
    std::size_t extra;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr std::array<std::uint32_t, 4> minimum{0, 0x80, 0x800, 0x10000};
    if (cp < minimum[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

std::optional<std::uint32_t> parse_decimal(std::string_view text, std::uint32_t min,
                                           std::uint32_t max) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
    if (value > max) return std::nullopt;
  }
  if (value < min) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

template <typename T>
bool take(std::variant<T, ApiError>&& result, T& into, std::optional<ApiError>& error) {
  if (auto* e = std::get_if<ApiError>(&result)) {
    error = std::move(*e);
    return false;
  }
  into = std::move(std::get<T>(result));
  return true;
}

template <typename T>
bool take(std::variant<T, ApiError>&& result, std::optional<T>& into,
          std::optional<ApiError>& error) {
  T value{};
  if (!take(std::move(result), value, error)) return false;
  into = std::move(value);
  return true;
}

}  // namespace

// A decoded string parameter of 1..max_length characters, or the error naming it.
std::variant<std::string, ApiError> string_parameter(std::string_view name, std::string_view raw,
                                                     std::size_t max_length) {
  auto decoded = percent_decode(raw);
  if (!decoded)
    return invalid_parameter(
        name, std::string(name) + " must be percent-encoded UTF-8 without NUL characters");
  auto length = utf8_length(*decoded);
  if (length < 1 || length > max_length)
    return invalid_parameter(name, std::string(name) + " must be 1 to " +
                                       std::to_string(max_length) + " characters long");
  return std::move(*decoded);
}

std::variant<Category, ApiError> category_parameter(std::string_view raw) {
  auto decoded = percent_decode(raw);
  if (decoded && *decoded == "host") return Category::host;
  if (decoded && *decoded == "container") return Category::container;
  return invalid_parameter("category", "category must be host or container");
}

std::variant<std::uint32_t, ApiError> integer_parameter(std::string_view name, std::string_view raw,
                                                        std::uint32_t min, std::uint32_t max) {
  // Escapes are decoded first so that %35 reads as 5, as any string parameter would.
  auto decoded = percent_decode(raw);
  std::optional<std::uint32_t> value;
  if (decoded) value = parse_decimal(*decoded, min, max);
  if (!value)
    return invalid_parameter(name, std::string(name) + " must be an integer from " +
                                       std::to_string(min) + " to " + std::to_string(max));
  return *value;
}

std::variant<bool, ApiError> boolean_parameter(std::string_view name, std::string_view raw) {
  auto decoded = percent_decode(raw);
  if (decoded && *decoded == "true") return true;
  if (decoded && *decoded == "false") return false;
  return invalid_parameter(name, std::string(name) + " must be true or false");
}

std::variant<std::vector<RawParameter>, ApiError> split_parameters(
    std::string_view target, std::span<const std::string_view> known) {
  auto qmark = target.find('?');
  std::string_view query =
      qmark == std::string_view::npos ? std::string_view{} : target.substr(qmark + 1);
  // Drop a fragment, which a client should not send but some do.
  query = query.substr(0, query.find('#'));
  std::vector<RawParameter> params;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (piece.empty()) continue;
    auto eq = piece.find('=');
    std::string_view raw_name = piece.substr(0, eq);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
    auto name = percent_decode(raw_name);
    if (!name) continue;  // no known name decodes like that: an unknown parameter, ignored
    bool is_known = false;
    for (auto k : known) is_known = is_known || k == *name;
    if (!is_known) continue;
    for (const auto& p : params)
      if (p.name == *name)
        return invalid_parameter(*name, *name + " must not be given more than once");
    params.push_back({std::move(*name), raw_value});
  }
  return params;
}

std::optional<std::string> percent_decode(std::string_view text) {
  // Boost.URL checks every escape (two hex digits after each '%') and decodes; '+' stays a plus
  // sign (space_as_plus off). It allows any decoded byte, so NUL and UTF-8 are checked here.
  auto encoded = boost::urls::make_pct_string_view(text);
  if (!encoded) return std::nullopt;
  boost::urls::encoding_opts options;
  options.space_as_plus = false;
  const boost::urls::decode_view decoded(*encoded, options);
  std::string out(decoded.begin(), decoded.end());
  if (!is_valid_text(out)) return std::nullopt;
  return out;
}

bool is_valid_text(std::string_view text) {
  return text.find('\0') == std::string_view::npos && valid_utf8(text);
}

std::size_t utf8_length(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::optional<RouteMatch> match_path(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/status") return RouteMatch{Endpoint::status, {}, std::nullopt};
  constexpr std::string_view prefix = "/v5/";
  if (!path.starts_with(prefix)) return std::nullopt;
  path.remove_prefix(prefix.size());
  auto slash = path.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view raw_project = path.substr(0, slash);
  std::string_view rest = path.substr(slash);
  Endpoint endpoint;
  if (rest == "/asset/statistics")
    endpoint = Endpoint::asset_statistics;
  else if (rest == "/asset/process/statistics")
    endpoint = Endpoint::process_statistics;
  else if (rest == "/rasp/statistics")
    endpoint = Endpoint::rasp_statistics;
  else
    return std::nullopt;
  RouteMatch match{endpoint, {}, std::nullopt};
  auto decoded = string_parameter("project_id", raw_project, max_id_length);
  if (auto* e = std::get_if<ApiError>(&decoded))
    match.error = std::move(*e);
  else
    match.project_id = std::move(std::get<std::string>(decoded));
  return match;
}

std::variant<Query, ApiError> parse_query(Endpoint endpoint, std::string_view target) {
  // Known names per endpoint; anything else is ignored.
  static constexpr std::array<std::string_view, 3> asset_names{"category", "host_id",
                                                               "enterprise_project_id"};
  static constexpr std::array<std::string_view, 5> process_names{"path", "category", "limit",
                                                                 "offset", "enterprise_project_id"};
  static constexpr std::array<std::string_view, 1> rasp_names{"enterprise_project_id"};
  std::span<const std::string_view> known;
  switch (endpoint) {
    case Endpoint::asset_statistics:
      known = asset_names;
      break;
    case Endpoint::process_statistics:
      known = process_names;
      break;
    case Endpoint::rasp_statistics:
      known = rasp_names;
      break;
    case Endpoint::status:
      break;
  }

  auto split = split_parameters(target, known);
  if (auto* e = std::get_if<ApiError>(&split)) return std::move(*e);
  const auto& params = std::get<std::vector<RawParameter>>(split);

  std::optional<ApiError> error;
  auto enterprise = [&](const RawParameter& p, std::optional<std::string>& into) {
    return take(string_parameter(p.name, p.raw_value, max_id_length), into, error);
  };

  switch (endpoint) {
    case Endpoint::asset_statistics: {
      AssetStatisticsQuery q;
      for (const auto& p : params) {
        bool ok = true;
        if (p.name == "category")
          ok = take(category_parameter(p.raw_value), q.category, error);
        else if (p.name == "host_id")
          ok = take(string_parameter(p.name, p.raw_value, max_host_id_length), q.host_id, error);
        else if (p.name == "enterprise_project_id")
          ok = enterprise(p, q.enterprise_project_id);
        if (!ok) return std::move(*error);
      }
      return q;
    }
    case Endpoint::process_statistics: {
      ProcessStatisticsQuery q;
      for (const auto& p : params) {
        bool ok = true;
        if (p.name == "category")
          ok = take(category_parameter(p.raw_value), q.category, error);
        else if (p.name == "path")
          ok = take(string_parameter(p.name, p.raw_value, max_path_filter_length), q.path, error);
        else if (p.name == "limit")
          ok = take(integer_parameter(p.name, p.raw_value, 1, 200), q.limit, error);
        else if (p.name == "offset")
          ok = take(integer_parameter(p.name, p.raw_value, 0, 2'000'000), q.offset, error);
        else if (p.name == "enterprise_project_id")
          ok = enterprise(p, q.enterprise_project_id);
        if (!ok) return std::move(*error);
      }
      return q;
    }
    case Endpoint::rasp_statistics: {
      RaspStatisticsQuery q;
      for (const auto& p : params)
        if (!enterprise(p, q.enterprise_project_id)) return std::move(*error);
      return q;
    }
    case Endpoint::status:
      return StatusQuery{};
  }
  return StatusQuery{};
}

}  // namespace hostprint::proto
