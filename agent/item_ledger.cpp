#include "agent/item_ledger.hpp"

#include "agent/record_text.hpp"

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

using record_text::escape_into;
using record_text::number;
using record_text::unescape;

}  // namespace

std::string_view to_string(ChangeType type) {
  switch (type) {
    case ChangeType::add:
      return "add";
    case ChangeType::remove:
      return "delete";
    case ChangeType::modify:
      return "modify";
  }
  return "unknown";
}

// 0x1f separates fields, so a value's own 0x1f is escaped (and the backslash that escapes).
void append_escaped_value(std::string& out, const proto::FieldValue& value) {
  std::string text;
  proto::append_value(text, value);
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\x1f')
      out += "\\u";
    else
      out += c;
  }
}

namespace {

// Calls f(name, raw value) for each field of an encoding; stops when f returns true.
template <class F>
void each_field(std::string_view fields, F&& f) {
  while (!fields.empty()) {
    const auto end = fields.find('\x1f');
    const auto field = fields.substr(0, end);
    fields = end == std::string_view::npos ? std::string_view{} : fields.substr(end + 1);
    const auto eq = field.find('=');
    if (eq == std::string_view::npos) continue;
    if (f(field.substr(0, eq), field.substr(eq + 1))) return;
  }
}

}  // namespace

std::optional<std::string> ItemLedger::field_of(std::string_view fields, std::string_view name) {
  std::optional<std::string> out;
  each_field(fields, [&](std::string_view n, std::string_view raw) {
    if (n != name) return false;
    std::string value;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '\\' || i + 1 == raw.size()) {
        value += raw[i];
        continue;
      }
      ++i;
      value += raw[i] == 'u' ? '\x1f' : raw[i];
    }
    out = std::move(value);
    return true;
  });
  return out;
}

std::vector<std::string> ItemLedger::changed_fields(std::string_view before,
                                                    std::string_view after) {
  std::vector<std::string> out;
  each_field(after, [&](std::string_view name, std::string_view raw) {
    each_field(before, [&](std::string_view old_name, std::string_view old_raw) {
      if (old_name != name) return false;
      if (old_raw != raw) out.emplace_back(name);
      return true;
    });
    return false;
  });
  return out;
}

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
    if (!t.fields.empty()) {
      out += '\t';
      escape_into(out, t.fields);
    }
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
    std::string_view parts[5];
    std::size_t n = 0, start = 0;
    for (std::size_t i = 0; i <= line.size() && n < 5; ++i)
      if (i == line.size() || line[i] == '\t') {
        parts[n++] = line.substr(start, i - start);
        start = i + 1;
      }
    ItemTimes t;
    // The fifth column (the fields of reported kinds) is optional: older records lack it.
    if (n < 4 || start <= line.size() || !unescape(parts[0], identity) ||
        !number(parts[1], t.first_seen_ms) || !number(parts[2], t.changed_ms) ||
        !number(parts[3], t.digest, 16) || (n == 5 && !unescape(parts[4], t.fields))) {
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

std::vector<std::string> ItemLedger::update(const proto::AssetSet& assets, std::int64_t now_ms,
                                            std::vector<ItemChange>* changes,
                                            collectors::KindSet settled) {
  std::vector<std::string> errors;
  if (!loaded_) {
    loaded_ = true;
    baseline_ = true;
    std::string error;
    if (store_) {
      if (auto text = store_->load(record_name, max_record_bytes, error)) {
        auto parsed = parse(*text, error);
        if (error.empty()) {
          times_ = std::make_shared<const ItemTimesMap>(std::move(parsed));
          baseline_ = false;
        }
      }
      if (!error.empty())
        errors.push_back(store_->where(record_name) + ": " + error +
                         "; first-seen times start again from this scan");
    }
  } else {
    baseline_ = false;
  }
  const ItemTimesMap& before = *times_;
  auto now = std::make_shared<ItemTimesMap>();
  now->reserve(before.size());
  bool changed = false;
  bool full = false;
  // Kinds with no result yet carry over what was remembered of them, whole.
  collectors::KindSet unsettled = ~settled;
  std::vector<std::string_view> unsettled_prefixes;
  for (proto::AssetKind k = 0; k < proto::asset_kind_count; ++k)
    if (unsettled[k]) unsettled_prefixes.push_back(proto::kind_name(k));
  if (!unsettled_prefixes.empty())
    for (const auto& [identity, t] : before)
      for (auto prefix : unsettled_prefixes)
        if (identity.size() > prefix.size() && identity.starts_with(prefix) &&
            identity[prefix.size()] == '\x1f') {
          now->emplace(identity, t);
          break;
        }
  const bool report = changes && !baseline_;
  assets.each_kind([&](const auto& parts) {
    using Item = typename std::decay_t<decltype(parts)>::value_type::item_type;
    constexpr auto kind = proto::kind_id<Item>;
    if constexpr (remembered<Item>) {
      if (unsettled[kind]) return;
      for (const auto& part : parts) {
        if (!part.items) continue;
        for (const auto& item : *part.items) {
          const auto scope = proto::scope_of(part, item);
          auto identity = proto::identity_of(item, scope);
          const auto digest = proto::fields_digest(item);
          ItemTimes t{now_ms, now_ms, digest};
          const bool keeps_fields = reported_[kind] && scope.empty();
          if (auto it = before.find(identity); it != before.end()) {
            t = it->second;
            if (t.digest != digest) {
              t.changed_ms = now_ms;
              t.digest = digest;
              changed = true;
              if (keeps_fields) {
                auto fields = encode_fields(item);
                // A field only declared since (or no longer) is no change of the item.
                if (report && (t.fields.empty() || !changed_fields(t.fields, fields).empty()))
                  changes->push_back({kind, ChangeType::modify, fields, t.fields});
                t.fields = std::move(fields);
              }
            } else if (keeps_fields && t.fields.empty()) {
              t.fields = encode_fields(item);  // a record from before changes were reported
              changed = true;
            }
          } else {
            changed = true;
            if (keeps_fields) {
              t.fields = encode_fields(item);
              if (report) changes->push_back({kind, ChangeType::add, t.fields, {}});
            }
          }
          if (now->size() >= max_entries) {
            full = true;
            continue;
          }
          now->emplace(std::move(identity), std::move(t));
        }
      }
    }
  });
  if (full)
    errors.push_back("more than " + std::to_string(max_entries) +
                     " items: the rest get no first-seen time");
  // What is remembered and not seen now went away (unless the ledger is too full to tell).
  if (report && !full)
    for (const auto& [identity, t] : before)
      if (!t.fields.empty() && !now->contains(identity)) {
        const auto kind_end = identity.find('\x1f');
        for (proto::AssetKind k = 0; k < proto::asset_kind_count; ++k)
          if (reported_[k] && identity.substr(0, kind_end) == proto::kind_name(k))
            changes->push_back({k, ChangeType::remove, t.fields, {}});
      }
  changed = changed || now->size() != before.size();
  times_ = std::move(now);
  if (changed && store_) {
    auto failure = store_->save(record_name, serialize(*times_));
    if (!failure.empty()) errors.push_back(failure);
  }
  return errors;
}

}  // namespace hostprint
