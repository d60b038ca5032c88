#include "agent/change_history.hpp"

#include "agent/record_text.hpp"

#include <algorithm>
#include <charconv>
#include <span>

#include "agent/logging.hpp"

namespace hostprint {
namespace {

constexpr std::string_view header = "hostprint change history 1\n";
constexpr std::string_view dropped_label = "dropped\t";
constexpr std::int64_t day_ms = 86'400'000;
// Past this many chunks a scan merges them, so the chunk list stays short over months of scans.
constexpr std::size_t max_chunks = 64;

struct KindNames {
  std::string_view name_field;  // the field that names an item (its statistics key)
  std::span<const std::string_view> key;
};

template <class... Items>
std::array<KindNames, sizeof...(Items)> all_names(proto::KindList<Items...>) {
  return {KindNames{proto::table_of<Items>().statistics_key, proto::table_of<Items>().key}...};
}

const KindNames& names_of(proto::AssetKind kind) {
  static const auto table = all_names(proto::AssetKinds{});
  return table.at(kind);
}

std::optional<proto::AssetKind> kind_named(std::string_view name) {
  for (proto::AssetKind k = 0; k < proto::asset_kind_count; ++k)
    if (proto::kind_name(k) == name) return k;
  return std::nullopt;
}

std::optional<ChangeType> type_named(std::string_view name) {
  for (auto t : {ChangeType::add, ChangeType::remove, ChangeType::modify})
    if (to_string(t) == name) return t;
  return std::nullopt;
}

using record_text::escape_into;
using record_text::number;
using record_text::unescape;

// A log value: bare when it is one plain word, else quoted with its quotes escaped.
void append_log_value(std::string& out, std::string_view value) {
  const std::string text = printable(value, 256);
  const bool bare = !text.empty() && text.find_first_of(" \"=") == std::string::npos;
  if (bare) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

// Field names that would read as the line's own words get a prefix.
void append_log_name(std::string& out, std::string_view name) {
  if (name == "kind" || name == "type" || name == "name") out += "item_";
  out += name;
}

// Drops the oldest `n` events of `log`.
void drop_front(ChangeLog& log, std::size_t n) {
  log.size -= n;
  log.dropped += n;
  while (n > 0 && !log.chunks.empty()) {
    const std::size_t left = log.chunks.front()->size() - log.skip;
    if (n < left) {
      log.skip += n;
      return;
    }
    n -= left;
    log.chunks.erase(log.chunks.begin());
    log.skip = 0;
  }
}

}  // namespace

std::string describe_change(const ItemChange& change) {
  const auto& names = names_of(change.kind);
  std::string out = "kind=";
  out += proto::kind_name(change.kind);
  out += " type=";
  out += to_string(change.type);
  out += " name=";
  append_log_value(out, ItemLedger::field_of(change.fields, names.name_field).value_or(""));
  for (auto key : names.key) {
    if (key == names.name_field) continue;
    out += ' ';
    append_log_name(out, key);
    out += '=';
    append_log_value(out, ItemLedger::field_of(change.fields, key).value_or(""));
  }
  if (change.type == ChangeType::modify)
    for (const auto& field : ItemLedger::changed_fields(change.before, change.fields)) {
      out += ' ';
      append_log_name(out, field);
      out += '=';
      append_log_value(out, ItemLedger::field_of(change.before, field).value_or(""));
      out += "->";
      append_log_value(out, ItemLedger::field_of(change.fields, field).value_or(""));
    }
  return out;
}

ChangeHistory::ChangeHistory(std::shared_ptr<collectors::StateRecords> store)
    : store_(std::move(store)) {}

std::string ChangeHistory::serialize(const ChangeLog& log) {
  std::string out(header);
  out += dropped_label;
  out += std::to_string(log.dropped);
  out += '\n';
  log.each([&](const ChangeEvent& e) {
    out += std::to_string(e.time_ms);
    out += '\t';
    out += proto::kind_name(e.kind);
    out += '\t';
    out += to_string(e.type);
    out += '\t';
    escape_into(out, e.fields);
    out += '\n';
  });
  return out;
}

ChangeLog ChangeHistory::parse(std::string_view text, std::size_t max_events, std::string& error) {
  ChangeLog out;
  if (!text.starts_with(header)) {
    error = "not a hostprint change-history record";
    return out;
  }
  text.remove_prefix(header.size());
  auto events = std::make_shared<std::vector<ChangeEvent>>();
  std::size_t line_number = 1;
  std::string fields;
  while (!text.empty()) {
    ++line_number;
    const auto end = text.find('\n');
    if (end == std::string_view::npos || end > max_line_bytes) {
      error = "line " + std::to_string(line_number) +
              (end == std::string_view::npos ? " is cut short" : " is too long");
      return {};
    }
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    if (line_number == 2) {
      if (!line.starts_with(dropped_label) ||
          !number(line.substr(dropped_label.size()), out.dropped)) {
        error = "line 2 is not the dropped count";
        return {};
      }
      continue;
    }
    std::string_view parts[4];
    std::size_t n = 0, start = 0;
    for (std::size_t i = 0; i <= line.size() && n < 4; ++i)
      if (i == line.size() || (line[i] == '\t' && n < 3)) {
        parts[n++] = line.substr(start, i - start);
        start = i + 1;
      }
    ChangeEvent e;
    const auto kind = n == 4 ? kind_named(parts[1]) : std::nullopt;
    const auto type = n == 4 ? type_named(parts[2]) : std::nullopt;
    if (n != 4 || !number(parts[0], e.time_ms) || !type || !unescape(parts[3], fields)) {
      error = "line " + std::to_string(line_number) + " is malformed";
      return {};
    }
    if (!kind) continue;  // a kind this version does not know (a newer one wrote it)
    e.kind = *kind;
    e.type = *type;
    e.fields = fields;
    events->push_back(std::move(e));
  }
  if (line_number < 2) {
    error = "the dropped count is missing";
    return {};
  }
  out.size = events->size();
  if (!events->empty()) out.chunks.push_back(std::move(events));
  if (out.size > max_events) drop_front(out, out.size - max_events);
  return out;
}

std::vector<std::string> ChangeHistory::record(std::vector<ItemChange> changes, std::int64_t now_ms,
                                               const HistorySettings& settings) {
  std::vector<std::string> errors;
  auto next = std::make_shared<ChangeLog>(*log_);
  bool changed = false;
  if (!loaded_) {
    loaded_ = true;
    std::string error;
    if (store_) {
      if (auto text = store_->load(record_name, max_record_bytes, error)) {
        auto parsed = parse(*text, settings.max_events, error);
        if (error.empty()) {
          parsed.counted = next->counted;
          *next = std::move(parsed);
        }
      }
      if (!error.empty()) {
        next->error = store_->where(record_name) + ": " + error +
                      "; the change history starts again from this scan";
        errors.push_back(next->error);
        changed = true;  // rewritten whole, so the next start reads a sound record
      }
    }
  }
  if (!changes.empty()) {
    // One scan's changes in a stable order: by kind, then type, then fields.
    std::sort(changes.begin(), changes.end(), [](const ItemChange& a, const ItemChange& b) {
      return std::tie(a.kind, a.type, a.fields) < std::tie(b.kind, b.type, b.fields);
    });
    auto chunk = std::make_shared<std::vector<ChangeEvent>>();
    chunk->reserve(changes.size());
    for (auto& c : changes) {
      ++next->counted.at(c.kind)[static_cast<std::size_t>(c.type)];
      chunk->push_back({now_ms, c.kind, c.type, std::move(c.fields)});
    }
    next->size += chunk->size();
    next->chunks.push_back(std::move(chunk));
    changed = true;
  }
  // Age first, then count: the oldest go first either way.
  const std::int64_t oldest_kept = now_ms - std::int64_t{settings.max_age_days} * day_ms;
  std::size_t too_old = 0;
  for (std::size_t c = 0, stop = 0; c < next->chunks.size() && !stop; ++c)
    for (std::size_t i = c == 0 ? next->skip : 0; i < next->chunks[c]->size(); ++i) {
      if ((*next->chunks[c])[i].time_ms >= oldest_kept) {
        stop = 1;
        break;
      }
      ++too_old;
    }
  const std::size_t excess =
      next->size - too_old > settings.max_events ? next->size - too_old - settings.max_events : 0;
  if (too_old + excess > 0) {
    drop_front(*next, too_old + excess);
    changed = true;
  }
  if (next->chunks.size() > max_chunks) {
    auto merged = std::make_shared<std::vector<ChangeEvent>>();
    merged->reserve(next->size);
    next->each([&](const ChangeEvent& e) { merged->push_back(e); });
    next->chunks.assign(1, std::move(merged));
    next->skip = 0;
  }
  if (changed && store_) {
    auto failure = store_->save(record_name, serialize(*next));
    if (!failure.empty()) {
      next->error = failure;
      errors.push_back(failure);
    } else if (save_failed_) {
      next->error.clear();
    }
    save_failed_ = !failure.empty();
  }
  log_ = std::move(next);
  return errors;
}

}  // namespace hostprint
