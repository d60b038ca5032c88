#include "agent/lists.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>

#include "agent/change_history.hpp"
#include "agent/snapshot.hpp"

namespace hostprint {
namespace {

using proto::AssetKind;
using proto::FieldValue;

// One item of a list, of whichever kind, and the scope it is in; or one change of an item.
struct Row {
  AssetKind kind;
  const void* item;
  std::string_view container;
  const ChangeEvent* change = nullptr;
};

// What each kind offers the engine, reached by the kind's id.
struct KindOps {
  void (*collect)(const proto::AssetSet&, bool containers, std::vector<Row>&);
  std::optional<FieldValue> (*field)(const void* item, std::string_view name);
  proto::Shown (*shown)(std::string_view name);
  std::string (*identity)(const void* item, std::string_view scope);
  std::span<const std::string_view> key;
};

template <class Item>
KindOps ops_of() {
  return {[](const proto::AssetSet& assets, bool containers, std::vector<Row>& out) {
            for (const auto& part : assets.of<Item>()) {
              if (!part.items) continue;
              for (const auto& item : *part.items) {
                const auto scope = proto::scope_of(part, item);
                if (scope.empty() == containers) continue;
                out.push_back({proto::kind_id<Item>, &item, scope});
              }
            }
          },
          [](const void* item, std::string_view name) -> std::optional<FieldValue> {
            const auto* field = proto::field_named<Item>(name);
            if (!field) return std::nullopt;
            return field->get(*static_cast<const Item*>(item));
          },
          [](std::string_view name) {
            const auto* field = proto::field_named<Item>(name);
            return field ? field->shown : proto::Shown::as_stored;
          },
          [](const void* item, std::string_view scope) {
            return proto::identity_of(*static_cast<const Item*>(item), scope);
          },
          proto::table_of<Item>().key};
}

template <class... Items>
std::array<KindOps, sizeof...(Items)> all_ops(proto::KindList<Items...>) {
  return {ops_of<Items>()...};
}

const KindOps& ops(AssetKind kind) {
  static const auto table = all_ops(proto::AssetKinds{});
  return table.at(kind);
}

std::int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// A field of a row: the item's table first, then the host and container facts, then the
// declared constant; nullopt when nothing knows it.
class Fields {
 public:
  Fields(const Snapshot& snapshot, const HostFacts& host)
      : snapshot_(snapshot), host_(host), scan_time_(epoch_ms(snapshot.completed_at)) {}

  std::optional<FieldValue> value(const Row& row, const proto::ListField& field) const {
    if (row.change) return change_value(*row.change, field);
    if (auto v = ops(row.kind).field(row.item, field.name)) return v;
    const auto name = field.name;
    if (name == "host_id" || name == "agent_id") return host_.host_id;
    if (name == "host_name") return std::string_view(snapshot_.assets.host_name);
    if (name == "host_ip") return std::string_view(snapshot_.assets.host_ip);
    if (name == "container_id") return row.container;
    if (name == "container_name") {
      const auto& names = snapshot_.assets.container_names;
      auto it = row.container.empty() ? names.end() : names.find(row.container);
      return it == names.end() ? std::string_view() : std::string_view(it->second);
    }
    if (name == "recent_scan_time") return scan_time_;
    if (name == "first_scan_time" || name == "record_time" || name == "update_time") {
      const ItemTimes* t = times(row);
      if (!t) return std::nullopt;
      return name == "update_time" ? t->changed_ms : t->first_seen_ms;
    }
    if (const auto* text = std::get_if<std::string_view>(&field.constant)) return *text;
    if (const auto* number = std::get_if<std::int64_t>(&field.constant)) return *number;
    return std::nullopt;
  }

  std::optional<FieldValue> value(const Row& row, std::string_view name) const {
    return value(row, proto::ListField{name, proto::FieldType::text});
  }

  // Set for a change-history list: which field names the change, in which words.
  const proto::ListEndpoint* changes = nullptr;

 private:
  // A change's field: the item's as the change recorded it, typed as the endpoint declares;
  // the change itself and its scan's time; then the host's facts.
  std::optional<FieldValue> change_value(const ChangeEvent& e,
                                         const proto::ListField& field) const {
    const auto name = field.name;
    if (name == changes->change_field) {
      const auto at = static_cast<std::size_t>(e.type);
      if (at < changes->change_words.size()) return changes->change_words[at];
      return std::nullopt;
    }
    if (name == "recent_scan_time" || name == "update_time") return e.time_ms;
    if (auto text = ItemLedger::field_of(e.fields, name)) {
      std::string& held = texts_[next_text_++ % texts_.size()];
      held = std::move(*text);
      // A filter asks by name only: the type is the one the endpoint declares.
      auto type = field.type;
      for (const auto& declared : changes->fields)
        if (declared.name == name) type = declared.type;
      if (type == proto::FieldType::text) return std::string_view(held);
      std::int64_t number = 0;
      auto [end, ec] = std::from_chars(held.data(), held.data() + held.size(), number);
      if (ec != std::errc() || end != held.data() + held.size()) return std::nullopt;
      if (type == proto::FieldType::boolean) return number != 0;
      return number;
    }
    if (name == "host_id" || name == "agent_id") return host_.host_id;
    if (name == "host_name") return std::string_view(snapshot_.assets.host_name);
    if (name == "host_ip") return std::string_view(snapshot_.assets.host_ip);
    return std::nullopt;
  }

  const ItemTimes* times(const Row& row) const {
    if (!snapshot_.item_times) return nullptr;
    auto it = snapshot_.item_times->find(ops(row.kind).identity(row.item, row.container));
    return it == snapshot_.item_times->end() ? nullptr : &it->second;
  }

  const Snapshot& snapshot_;
  const HostFacts& host_;
  std::int64_t scan_time_;
  // The text of change fields handed out as views, each used before the next few are asked for
  // (a filter compares it, a page renders it).
  mutable std::array<std::string, 8> texts_;
  mutable std::size_t next_text_ = 0;
};

// Items in key order: kind, then the table's key fields, then the container (bytes).
bool key_order(const Row& a, const Row& b) {
  if (a.kind != b.kind) return a.kind < b.kind;
  for (auto name : ops(a.kind).key) {
    auto x = ops(a.kind).field(a.item, name), y = ops(b.kind).field(b.item, name);
    if (x && y && *x != *y) return *x < *y;
  }
  return a.container < b.container;
}

bool satisfies(const Fields& fields, const Row& row, const proto::ListCondition& c,
               bool part_match) {
  const auto value = fields.value(row, c.filter->field);
  if (!value) return false;
  if (const auto* text = std::get_if<std::string_view>(&*value)) {
    const bool substring = c.filter->match == proto::FilterMatch::substring ||
                           (c.filter->match == proto::FilterMatch::exact_unless_part_match &&
                            part_match);
    return substring ? text->find(c.text) != std::string_view::npos : *text == c.text;
  }
  if (const auto* number = std::get_if<std::int64_t>(&*value)) {
    if (c.filter->match == proto::FilterMatch::at_least) return *number >= c.number;
    if (c.filter->match == proto::FilterMatch::at_most) return *number <= c.number;
    return *number == c.number;
  }
  return std::get<bool>(*value) == (c.number != 0);
}

boost::json::value to_json(const std::optional<FieldValue>& value, proto::FieldType type,
                           proto::Shown shown = proto::Shown::as_stored) {
  if (value && shown != proto::Shown::as_stored)
    return boost::json::string(proto::shown_text(*value, shown));
  if (!value) {
    if (type == proto::FieldType::text) return boost::json::string();
    if (type == proto::FieldType::boolean) return false;
    return std::int64_t{0};
  }
  if (const auto* text = std::get_if<std::string_view>(&*value))
    return boost::json::string(to_valid_utf8(*text));
  if (const auto* number = std::get_if<std::int64_t>(&*value)) return *number;
  return std::get<bool>(*value);
}

std::string body(std::size_t total, boost::json::array page) {
  boost::json::object o;
  o["total_num"] = static_cast<std::int64_t>(std::min<std::size_t>(total, 0x7fffffff));
  o["data_list"] = std::move(page);
  return boost::json::serialize(o);
}

}  // namespace

struct ListCache {
  std::mutex mutex;
  std::map<std::pair<const proto::ListEndpoint*, int>, std::shared_ptr<const std::vector<Row>>>
      rows;
};

std::shared_ptr<ListCache> make_list_cache() { return std::make_shared<ListCache>(); }

namespace {

// The endpoint's items in the query's scope, in key order; sorted once per snapshot.
std::shared_ptr<const std::vector<Row>> sorted_rows(const proto::ListQuery& q,
                                                    const Snapshot& snapshot) {
  const auto& endpoint = *q.endpoint;
  // Lists without a category (kernel modules, protected processes) hold every scope.
  int scope = !endpoint.category ? 2 : q.category == proto::Category::container ? 1 : 0;
  const bool changes = endpoint.shape == proto::ListShape::changes;
  if (changes) scope = q.ascending ? 3 : 4;
  const auto key = std::make_pair(q.endpoint, scope);
  if (snapshot.list_cache) {
    std::lock_guard lock(snapshot.list_cache->mutex);
    if (auto it = snapshot.list_cache->rows.find(key); it != snapshot.list_cache->rows.end())
      return it->second;
  }
  auto rows = std::make_shared<std::vector<Row>>();
  if (changes && snapshot.changes) {
    // Kept oldest first, a scan's changes in a stable order: the order is the history's own.
    snapshot.changes->each([&](const ChangeEvent& e) {
      if (std::find(endpoint.kinds.begin(), endpoint.kinds.end(), e.kind) != endpoint.kinds.end())
        rows->push_back({e.kind, nullptr, {}, &e});
    });
    if (!q.ascending) std::reverse(rows->begin(), rows->end());
  }
  for (const AssetKind kind : changes ? std::span<const AssetKind>{} : endpoint.kinds) {
    if (scope != 1) ops(kind).collect(snapshot.assets, false, *rows);
    if (scope != 0) ops(kind).collect(snapshot.assets, true, *rows);
  }
  if (!changes) std::sort(rows->begin(), rows->end(), key_order);
  std::shared_ptr<const std::vector<Row>> shared = std::move(rows);
  if (snapshot.list_cache) {
    std::lock_guard lock(snapshot.list_cache->mutex);
    snapshot.list_cache->rows.emplace(key, shared);
  }
  return shared;
}

std::string items_json(const proto::ListQuery& q, const std::vector<Row>& rows,
                       const Fields& fields) {
  boost::json::array page;
  auto render = [&](const Row& row) {
    boost::json::object item;
    for (const auto& field : q.endpoint->fields)
      item[field.name] =
          to_json(fields.value(row, field), field.type, ops(row.kind).shown(field.name));
    page.emplace_back(std::move(item));
  };
  const std::size_t end = std::size_t{q.offset} + q.limit;
  if (q.conditions.empty()) {
    for (std::size_t i = q.offset; i < std::min(end, rows.size()); ++i) render(rows[i]);
    return body(rows.size(), std::move(page));
  }
  std::size_t matched = 0;
  for (const auto& row : rows) {
    bool ok = true;
    for (const auto& c : q.conditions) ok = ok && satisfies(fields, row, c, q.part_match);
    if (!ok) continue;
    if (matched >= q.offset && matched < end) render(row);
    ++matched;
  }
  return body(matched, std::move(page));
}

std::string statistics_json(const proto::ListQuery& q, const std::vector<Row>& rows,
                            const Fields& fields) {
  using Key = std::vector<std::optional<FieldValue>>;
  std::map<Key, std::int64_t> groups;
  for (const auto& row : rows) {
    bool ok = true;
    for (const auto& c : q.conditions) ok = ok && satisfies(fields, row, c, q.part_match);
    if (!ok) continue;
    Key key;
    for (auto name : q.endpoint->key) key.push_back(fields.value(row, name));
    ++groups[std::move(key)];
  }
  std::vector<std::pair<const Key*, std::int64_t>> entries;
  entries.reserve(groups.size());
  for (const auto& [key, num] : groups) entries.emplace_back(&key, num);
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  boost::json::array page;
  const std::size_t end = std::min(entries.size(), std::size_t{q.offset} + q.limit);
  for (std::size_t i = q.offset; i < end; ++i) {
    boost::json::object entry;
    for (const auto& field : q.endpoint->fields) {
      if (field.name == "num") {
        entry["num"] = entries[i].second;
        continue;
      }
      std::optional<FieldValue> value;
      const auto& key_names = q.endpoint->key;
      const auto at = std::find(key_names.begin(), key_names.end(), field.name);
      if (at != key_names.end())
        value = (*entries[i].first)[static_cast<std::size_t>(at - key_names.begin())];
      else if (const auto* text = std::get_if<std::string_view>(&field.constant))
        value = *text;
      else if (const auto* number = std::get_if<std::int64_t>(&field.constant))
        value = *number;
      entry[field.name] = to_json(value, field.type);
    }
    page.emplace_back(std::move(entry));
  }
  return body(entries.size(), std::move(page));
}

}  // namespace

std::string list_json(const proto::ListQuery& query, const Snapshot& snapshot,
                      const HostFacts& host) {
  constexpr std::string_view all_granted = "all_granted_eps";
  const bool this_host =
      (!query.enterprise_project_id || *query.enterprise_project_id == host.enterprise_project_id ||
       *query.enterprise_project_id == all_granted) &&
      (query.path_host_id.empty() || query.path_host_id == host.host_id);
  if (!this_host) return body(0, {});
  const auto rows = sorted_rows(query, snapshot);
  Fields fields(snapshot, host);
  if (query.endpoint->shape == proto::ListShape::changes) fields.changes = query.endpoint;
  return query.endpoint->shape == proto::ListShape::statistics
             ? statistics_json(query, *rows, fields)
             : items_json(query, *rows, fields);
}

}  // namespace hostprint
