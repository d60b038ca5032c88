#include "agent/item_ledger.hpp"

#include <charconv>
#include <type_traits>

namespace hostprint {
namespace {

constexpr std::string_view header = "hostprint item times 1\n";

// Processes come and go by the thousand and carry their own start time; protected processes
// are processes too. Every other kind is remembered.
template <class Item>
constexpr bool remembered = !std::is_same_v<Item, proto::ProcessInfo> &&
                            !std::is_same_v<Item, proto::ProtectedProcess>;

void escape_into(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

bool unescape(std::string_view text, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (++i == text.size()) return false;
    if (text[i] == '\\')
      out += '\\';
    else if (text[i] == 't')
      out += '\t';
    else if (text[i] == 'n')
      out += '\n';
    else
      return false;
  }
  return true;
}

template <class T>
bool number(std::string_view text, T& value, int base = 10) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

ItemLedger::ItemLedger(std::shared_ptr<collectors::StateRecords> store)
    : store_(std::move(store)) {}

std::string ItemLedger::serialize(const ItemTimesMap& times) {
  std::string out(header);
  char digits[32];
  for (const auto& [identity, t] : times) {
    escape_into(out, identity);
    out += '\t';
    out += std::to_string(t.first_seen_ms);
    out += '\t';
    out += std::to_string(t.changed_ms);
    out += '\t';
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, t.digest, 16);
    out.append(digits, end);
    out += '\n';
  }
  return out;
}

ItemTimesMap ItemLedger::parse(std::string_view text, std::string& error) {
  ItemTimesMap out;
  if (!text.starts_with(header)) {
    error = "not a hostprint item-times record";
    return out;
  }
  text.remove_prefix(header.size());
  std::size_t line_number = 1;
  std::string identity;
  while (!text.empty()) {
    ++line_number;
    const auto end = text.find('\n');
    if (end == std::string_view::npos) {
      error = "line " + std::to_string(line_number) + " is cut short";
      return {};
    }
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    std::string_view parts[4];
    std::size_t n = 0, start = 0;
    for (std::size_t i = 0; i <= line.size() && n < 4; ++i)
      if (i == line.size() || line[i] == '\t') {
        parts[n++] = line.substr(start, i - start);
        start = i + 1;
      }
    ItemTimes t;
    if (n != 4 || start <= line.size() || !unescape(parts[0], identity) ||
        !number(parts[1], t.first_seen_ms) || !number(parts[2], t.changed_ms) ||
        !number(parts[3], t.digest, 16)) {
      error = "line " + std::to_string(line_number) + " is malformed";
      return {};
    }
    if (out.size() >= max_entries) {
      error = "more than " + std::to_string(max_entries) + " items";
      return {};
    }
    out.emplace(identity, t);
  }
  return out;
}

std::vector<std::string> ItemLedger::update(const proto::AssetSet& assets, std::int64_t now_ms) {
  std::vector<std::string> errors;
  if (!loaded_) {
    loaded_ = true;
    std::string error;
    if (store_) {
      if (auto text = store_->load(record_name, max_record_bytes, error)) {
        auto parsed = parse(*text, error);
        if (error.empty())
          times_ = std::make_shared<const ItemTimesMap>(std::move(parsed));
      }
      if (!error.empty())
        errors.push_back(store_->where(record_name) + ": " + error +
                         "; first-seen times start again from this scan");
    }
  }
  const ItemTimesMap& before = *times_;
  auto now = std::make_shared<ItemTimesMap>();
  now->reserve(before.size());
  bool changed = false;
  bool full = false;
  assets.each_kind([&](const auto& parts) {
    using Item = typename std::decay_t<decltype(parts)>::value_type::item_type;
    if constexpr (remembered<Item>) {
      for (const auto& part : parts) {
        if (!part.items) continue;
        for (const auto& item : *part.items) {
          auto identity = proto::identity_of(item, proto::scope_of(part, item));
          const auto digest = proto::fields_digest(item);
          ItemTimes t{now_ms, now_ms, digest};
          if (auto it = before.find(identity); it != before.end()) {
            t = it->second;
            if (t.digest != digest) {
              t.changed_ms = now_ms;
              t.digest = digest;
              changed = true;
            }
          } else {
            changed = true;
          }
          if (now->size() >= max_entries) {
            full = true;
            continue;
          }
          now->emplace(std::move(identity), t);
        }
      }
    }
  });
  if (full)
    errors.push_back("more than " + std::to_string(max_entries) +
                     " items: the rest get no first-seen time");
  changed = changed || now->size() != before.size();
  times_ = std::move(now);
  if (changed && store_) {
    auto failure = store_->save(record_name, serialize(*times_));
    if (!failure.empty()) errors.push_back(failure);
  }
  return errors;
}

}  // namespace hostprint
