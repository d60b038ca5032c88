#include "collectors/formats/proc_text.hpp"

#include <algorithm>
#include <charconv>

namespace hostprint::collectors {
namespace {

constexpr std::string_view deleted_suffix = " (deleted)";

template <typename T>
std::optional<T> parse_number(std::string_view s, int base = 10) {
  T value{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

}  // namespace

std::vector<std::string> split_ws(std::string_view line) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.emplace_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

std::vector<std::string> split_cmdline(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty() && text.back() == '\0') text.remove_suffix(1);
  if (text.empty()) return out;
  while (true) {
    auto nul = text.find('\0');
    out.emplace_back(text.substr(0, nul));
    if (nul == std::string_view::npos) break;
    text.remove_prefix(nul + 1);
  }
  // A rewritten title may leave trailing blank arguments (the padding of the old argv area).
  while (!out.empty() && out.back().find_first_not_of(' ') == std::string::npos) out.pop_back();
  return out;
}

std::string_view join_cmdline_in_place(std::span<char> buffer, std::size_t max_bytes) {
  // split_cmdline's arguments joined by one space are the text with each separating NUL made a
  // space, once the NULs at either end and the trailing blank arguments are cut off (an empty
  // leading argument adds no space): done in place, since a scan does this for every new process.
  std::string_view text(buffer.data(), buffer.size());
  while (!text.empty() && text.back() == '\0') text.remove_suffix(1);
  while (!text.empty() && text.front() == '\0') text.remove_prefix(1);
  while (!text.empty()) {
    auto nul = text.rfind('\0');
    auto last = nul == std::string_view::npos ? text : text.substr(nul + 1);
    if (last.find_first_not_of(' ') != std::string_view::npos) break;
    text = nul == std::string_view::npos ? std::string_view{} : text.substr(0, nul);
  }
  if (text.empty()) return {};
  // Only what can be shown is rewritten: up to one byte past the cut, to see where it falls.
  char* begin = buffer.data() + (text.data() - buffer.data());
  const std::size_t seen = std::min(text.size(), max_bytes + 1);
  std::replace(begin, begin + seen, '\0', ' ');
  if (text.size() <= max_bytes) return text;
  std::size_t cut = max_bytes;
  // Back off over continuation bytes so that no character is cut in two.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut);
}

std::string join_cmdline(std::string_view text, std::size_t max_bytes) {
  std::string copy(text);
  return std::string(join_cmdline_in_place(copy, max_bytes));
}

std::optional<std::int64_t> parse_boot_time(std::string_view text) {
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (!line.starts_with("btime ")) continue;
    line.remove_prefix(6);
    while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
    auto value = parse_number<std::int64_t>(line);
    if (!value || *value <= 0) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

std::optional<int> parse_stat_ppid(std::string_view stat) {
  auto close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  auto fields = split_ws(stat.substr(close + 1));
  if (fields.size() < 2) return std::nullopt;
  auto ppid = parse_number<int>(fields[1]);
  if (!ppid || *ppid < 0) return std::nullopt;
  return ppid;
}

std::optional<ProcNetSocket> parse_proc_net_socket(std::string_view line) {
  auto fields = split_ws(line);
  if (fields.size() < 10 || fields[0].empty() || fields[0].back() != ':') return std::nullopt;
  if (!parse_number<unsigned>(std::string_view(fields[0]).substr(0, fields[0].size() - 1)))
    return std::nullopt;
  std::string_view local = fields[1];
  auto colon = local.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto port = parse_number<std::uint16_t>(local.substr(colon + 1), 16);
  auto state = parse_number<std::uint8_t>(fields[3], 16);
  auto inode = parse_number<std::uint64_t>(fields[9]);
  if (!port || !state || !inode) return std::nullopt;
  return ProcNetSocket{*port, *state, *inode};
}

std::optional<std::uint64_t> parse_socket_link(std::string_view link) {
  if (!link.starts_with("socket:[") || !link.ends_with("]")) return std::nullopt;
  return parse_number<std::uint64_t>(link.substr(8, link.size() - 9));
}

std::string_view strip_deleted_suffix(std::string_view exe) {
  if (exe.size() > deleted_suffix.size() && exe.ends_with(deleted_suffix))
    exe.remove_suffix(deleted_suffix.size());
  return exe;
}

std::optional<std::uint64_t> parse_stat_start_ticks(std::string_view text) {
  // comm (field 2) may hold spaces and ')'; the fields after it start after the last ')'.
  auto close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  text.remove_prefix(close + 1);
  constexpr int start_time_field = 22;
  int field = 2;
  while (!text.empty()) {
    if (text.front() != ' ') return std::nullopt;
    text.remove_prefix(1);
    ++field;
    auto end = text.find_first_of(" \n");
    auto value = text.substr(0, end);
    if (field == start_time_field) {
      std::uint64_t ticks = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), ticks);
      if (ec != std::errc{} || ptr != value.data() + value.size() || value.empty())
        return std::nullopt;
      return ticks;
    }
    if (end == std::string_view::npos || text[end] == '\n') return std::nullopt;
    text.remove_prefix(end);
  }
  return std::nullopt;
}

std::optional<ProcessOwner> parse_status_owner(std::string_view status) {
  std::optional<std::uint32_t> uid, gid;
  while (!status.empty()) {
    const auto nl = status.find('\n');
    const std::string_view line = status.substr(0, nl);
    status = nl == std::string_view::npos ? std::string_view{} : status.substr(nl + 1);
    const bool is_uid = line.starts_with("Uid:"), is_gid = line.starts_with("Gid:");
    if (!is_uid && !is_gid) continue;
    const auto words = split_ws(line.substr(4));
    if (words.size() != 4) return std::nullopt;
    std::uint32_t id = 0;
    const auto& w = words[1];
    const auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), id);
    if (ec != std::errc() || end != w.data() + w.size()) return std::nullopt;
    (is_uid ? uid : gid) = id;
  }
  if (!uid || !gid) return std::nullopt;
  return ProcessOwner{*uid, *gid};
}

}  // namespace hostprint::collectors
