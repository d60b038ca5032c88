#pragma once
// The asset tables: each asset kind's item, its fields, its key and the count it feeds, declared
// once. Collectors fill these items; counts, lists, metrics and history are derived from the
// declarations. No I/O.
#include <array>
#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <variant>
#include <vector>

#include "proto/shared_text.hpp"

#include "proto/wire.hpp"

namespace hostprint::proto {

// --- The items ---

struct Account {
  std::string name;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::string home;
  std::string shell;
  std::string group = {};  // the primary group's name from etc/group; empty when it has none there
  friend bool operator==(const Account&, const Account&) = default;
};

// By socket family: TCP and UDP are AF_INET, TCP6 and UDP6 AF_INET6 (dual-stack ones included).
enum class PortType : std::uint8_t { tcp, tcp6, udp, udp6 };
std::string_view to_string(PortType type);

// One (type, port); ordered and compared by those two alone, the rest being what holds it.
struct ListeningPort {
  PortType type = PortType::tcp;
  std::uint16_t port = 0;
  std::string address = {};  // the wildcard if any socket binds it, else the lowest address
  int pid = 0;               // the lowest pid owning such a socket; 0: not known
  std::string exe = {};      // that process's executable
  friend auto operator<=>(const ListeningPort& a, const ListeningPort& b) {
    return std::tie(a.type, a.port) <=> std::tie(b.type, b.port);
  }
  friend bool operator==(const ListeningPort& a, const ListeningPort& b) {
    return a.type == b.type && a.port == b.port;
  }
};

// Its texts are shared (SharedText): a rescan copies the processes it keeps without allocating.
struct ProcessInfo {
  int pid = 0;
  std::uint64_t start_ticks = 0;  // clock ticks after boot, from /proc/<pid>/stat
  SharedText exe;                 // executable path; empty when it cannot be resolved
  SharedText container_id;        // the container its cgroup names; empty: the host's
  SharedText command_line = {};   // arguments joined by one space, at most 4 KiB
  std::int64_t start_ms = 0;      // start as epoch milliseconds; 0 when unknown
  std::uint32_t exe_mode = 0;     // the executable's st_mode; 0 when unknown
  friend bool operator==(const ProcessInfo&, const ProcessInfo&) = default;
};

struct SoftwarePackage {
  std::string manager;  // "dpkg", "rpm" or "apk"
  std::string name;
  std::string version;       // as the manager writes it (epoch:version-release for rpm)
  std::string architecture;  // may be empty where the manager records none
  friend bool operator==(const SoftwarePackage&, const SoftwarePackage&) = default;
};

// lists.md numbers them 0, 1, 2 and 4.
enum class AutoStartType { service = 0, scheduled_task = 1, preloaded_library = 2, startup_folder = 4 };
std::string_view to_string(AutoStartType type);

struct AutoStartItem {
  AutoStartType type = AutoStartType::service;
  std::string name;     // unit name, cron job's file:line, library path, .desktop name, ...
  std::string path;     // the file that makes it start
  std::string user;     // scheduled tasks from cron: the user it runs as
  std::string command;  // scheduled tasks from cron: the command
  std::string hash = {};  // SHA-256 of the file it runs or its unit file; empty when unreadable
  friend bool operator==(const AutoStartItem&, const AutoStartItem&) = default;
};

struct KernelModule {
  std::string name;
  std::uint64_t size = 0;
  std::string state;  // Live, Loading, Unloading
  std::string path = {};        // its file under lib/modules/<release>; empty when not found
  std::string version = {};     // from /sys/module/<name>/version; empty when it has none
  std::string srcversion = {};  // likewise /srcversion
  friend bool operator==(const KernelModule&, const KernelModule&) = default;
};

enum class ProductCategory { web_service, database, web_app, web_framework, rasp_agent };
std::string_view to_string(ProductCategory category);

struct ServiceInstance {
  std::string product;  // the rule's name: "Nginx", "Redis", ...
  ProductCategory category = ProductCategory::web_service;
  int pid = 0;  // the master process
  std::string exe;
  std::string container_id;          // empty: the host's
  std::string version;               // of the package that owns it, or from its version file
  std::string config_file;           // empty when the product has none or it is not known
  std::string config;                // the rule's `config`: which parser reads its sites, or empty
  std::vector<ListeningPort> ports;  // of the master and its workers; distinct, sorted
  std::string install_path = {};     // the product's home where known, else the exe's folder
  std::uint32_t uid = 0, gid = 0;    // the master's, effective
  friend bool operator==(const ServiceInstance&, const ServiceInstance&) = default;
};

struct WebSite {
  std::string server;                // "nginx", "apache", "tomcat"
  std::vector<std::string> domains;  // server_name / ServerName+ServerAlias / Host name+Alias
  std::vector<unsigned> ports;       // listen ports, sorted, distinct
  std::string document_root;         // root / DocumentRoot / appBase, made absolute where known;
                                     // empty when Apache's configuration sets none
  bool tls = false;                  // a listen with ssl / SSLEngine on / a TLS connector
  std::string config_file;           // where the block is
  std::size_t line = 0;              // where the block starts in config_file (1-based)
  std::string bind_address = {};      // of the listen giving ports[0]; "" for all addresses
  std::string certificate_file = {};  // TLS: the certificate file named, absolute; else ""
  friend bool operator==(const WebSite&, const WebSite&) = default;
};

// One site and the running instance that serves it.
struct ServedSite {
  WebSite site;
  std::string product;       // of the instance: "Nginx", "Apache httpd", ...
  int pid = 0;               // the instance's master process
  std::string container_id;  // empty: the host's
  std::string exe = {};      // the instance's executable
  // From site.certificate_file when it is a readable PEM certificate; names in RFC 2253 form.
  std::string cert_issuer = {}, cert_subject = {};
  std::int64_t cert_not_before_ms = 0, cert_not_after_ms = 0;
  friend bool operator==(const ServedSite&, const ServedSite&) = default;
};

struct WebApp {
  std::string product;       // the rule's name
  std::string path;          // the application's folder, or the executable / -jar file
  std::string version;       // empty when unknown
  std::string container_id;  // empty: the host's
  int pid = 0;               // the process that serves it (a site's instance, or its own)
  std::string exe = {};
  std::uint32_t uid = 0, gid = 0;  // of that process, effective
  friend bool operator==(const WebApp&, const WebApp&) = default;
};

struct WebFramework {
  std::string product;       // the rule's name
  std::string language;      // "java", "php" or "python"
  std::string path;          // PHP: the application's folder; Python: the packages folder;
                             // Java: the JAR that named it
  std::string environment;   // Python: the venv or prefix; PHP: the same as path; Java: the
                             // application (outer archive, deployed folder, or "pid <n>")
  std::string version;       // empty when unknown
  std::string container_id;  // empty: the host's
  int pid = 0;               // a process that uses it; 0 when none is known
  std::string exe = {};
  friend bool operator==(const WebFramework&, const WebFramework&) = default;
};

struct JarPackage {
  std::string path;  // as seen inside its root; "outer.jar!/BOOT-INF/lib/inner.jar" when nested
  std::string name;  // artifact id
  std::string version;
  std::string group_id;
  int pid = 0;               // one JVM that uses it
  std::string container_id;  // empty: the host's
  std::string exe = {};      // the JVM's executable
  std::uint64_t size = 0;    // of the file, or of the archive member when nested
  std::string hash = {};     // SHA-256 of the file; "" when nested, too large or unreadable
  friend bool operator==(const JarPackage&, const JarPackage&) = default;
};

struct ProtectedProcess {
  int pid = 0;
  std::string container_id;  // empty: the host's
  std::string agent;         // the product as the rules name it ("OpenRASP", ...)
  std::string agent_file;    // the agent jar or extension, inside the process's root
  std::string home;          // the RASP home: the folder its logs/ are under
  std::string exe = {};
  std::string app_type = {};          // "java" or "php"
  std::int64_t blocked_attacks = 0;   // of its home, in the event window
  friend bool operator==(const ProtectedProcess&, const ProtectedProcess&) = default;
};

// --- The declarations ---

enum class FieldType { text, integer, boolean };
using FieldValue = std::variant<std::string_view, std::int64_t, bool>;

// How an answer shows a field that is derived from what is stored, computed only for the items
// an answer shows (osquery's costly columns): a path's SHA-256, an st_mode as ls prints it.
enum class Shown : std::uint8_t { as_stored, sha256_hex, file_mode };

template <class Item>
struct Field {
  std::string_view name;
  FieldType type;
  FieldValue (*get)(const Item&);
  Shown shown = Shown::as_stored;
  // false: a value that changes while the item stays the same (the pid now holding a port, a
  // JVM's pid), so not compared across scans: no modify, no new update_time.
  bool tracked = true;
};

// A stored value as an answer shows it; "" for a derived one with nothing stored (no path, mode 0).
std::string shown_text(const FieldValue& stored, Shown how);

// An st_mode as ls prints it: "-rwxr-xr-x", "drwxrwxrwt", "-rwsr-xr-x", ...
std::string file_mode_text(unsigned mode);

// Which count of /asset/statistics an item adds one to; null: it feeds none.
using CountField = std::int64_t AssetStatistics::*;

template <class Item>
struct AssetTable {
  std::string_view kind;  // one word, as metrics and history name it
  std::span<const Field<Item>> fields;
  std::span<const std::string_view> key;  // fields that make two items of one scope the same
  std::string_view statistics_key;        // the field its statistics group by
  CountField (*count)(const Item&);
  // The container an item names itself; null: the part it came in says.
  std::string_view (*container)(const Item&) = nullptr;
};

template <class Item>
const AssetTable<Item>& table_of();

// Every kind, in the order counts and metrics list them.
template <class... Items>
struct KindList {};
using AssetKinds = KindList<Account, ListeningPort, ProcessInfo, SoftwarePackage, AutoStartItem,
                            KernelModule, ServiceInstance, ServedSite, WebApp, WebFramework,
                            JarPackage, ProtectedProcess>;

template <class Item, class... Items>
constexpr std::size_t index_in(KindList<Items...>) {
  constexpr std::array<bool, sizeof...(Items)> same{std::is_same_v<Item, Items>...};
  for (std::size_t i = 0; i < same.size(); ++i)
    if (same[i]) return i;
  return sizeof...(Items);
}

// The identity of a kind, for declaring what a collector reads and writes.
using AssetKind = std::size_t;
template <class Item>
constexpr AssetKind kind_id = index_in<Item>(AssetKinds{});
static_assert(kind_id<ProtectedProcess> == 11);
inline constexpr std::size_t asset_kind_count = 12;
std::string_view kind_name(AssetKind kind);

// --- What one scan found ---

// Items of one kind from one source: the host's, or one container's (`container_id`) when the
// items do not name their container themselves.
template <class Item>
struct Part {
  using item_type = Item;
  std::string container_id;
  std::shared_ptr<const std::vector<Item>> items;
};

template <class Item>
using Parts = std::vector<Part<Item>>;

template <class... Items>
struct PartsOf {
  std::tuple<Parts<Items>...> parts;
};

template <class... Items>
PartsOf<Items...> parts_for(KindList<Items...>);

class AssetSet {
 public:
  template <class Item>
  const Parts<Item>& of() const {
    return std::get<Parts<Item>>(all_.parts);
  }
  template <class Item>
  void add(std::shared_ptr<const std::vector<Item>> items, std::string container_id = {}) {
    std::get<Parts<Item>>(all_.parts).push_back({std::move(container_id), std::move(items)});
  }
  // Calls f(parts) for every kind.
  template <class F>
  void each_kind(F&& f) const {
    std::apply([&](const auto&... parts) { (f(parts), ...); }, all_.parts);
  }

  // Attacks blocked by RASP agents within the window when the scan ended.
  std::int64_t blocked_attacks = 0;
  // The host's name and address (lists.md's host fields).
  std::string host_name;
  std::string host_ip;
  // Running containers' names as their runtime knows them, by id; a container absent has none.
  std::map<std::string, std::string, std::less<>> container_names;

 private:
  decltype(parts_for(AssetKinds{})) all_;
};

// The scope an item belongs to: "" for the host, else its container's id.
template <class Item>
std::string_view scope_of(const Part<Item>& part, const Item& item) {
  const auto& table = table_of<Item>();
  return table.container ? table.container(item) : std::string_view(part.container_id);
}

// Items of a kind in one scope (the host, or every container together).
template <class Item, class F>
void for_each_in_scope(const Parts<Item>& parts, bool containers, F&& f) {
  for (const auto& part : parts) {
    if (!part.items) continue;
    for (const auto& item : *part.items)
      if (scope_of(part, item).empty() != containers) f(item);
  }
}

// The twelve counts of one scope, each the size of its kind's list.
AssetStatistics count_assets(const AssetSet& assets, bool containers);

template <class Item>
const Field<Item>* field_named(std::string_view name) {
  for (const auto& field : table_of<Item>().fields)
    if (field.name == name) return &field;
  return nullptr;
}

// Appends a field's value to `out` as text (numbers in decimal, booleans as 0/1).
void append_value(std::string& out, const FieldValue& value);

// What makes an item itself across scans: its kind, scope and key fields, separated by 0x1f.
template <class Item>
std::string identity_of(const Item& item, std::string_view scope) {
  const auto& table = table_of<Item>();
  std::string out(table.kind);
  out += '\x1f';
  out += scope;
  for (auto name : table.key) {
    out += '\x1f';
    if (const auto* field = field_named<Item>(name)) append_value(out, field->get(item));
  }
  return out;
}

// A digest of every field of an item (FNV-1a, 64 bits, stable across runs): what tells a
// changed item from the same one.
std::uint64_t fields_digest_of(std::span<const FieldValue> values);
template <class Item>
std::uint64_t fields_digest(const Item& item) {
  std::vector<FieldValue> values;
  for (const auto& field : table_of<Item>().fields)
    if (field.tracked) values.push_back(field.get(item));
  return fields_digest_of(values);
}

struct StatisticsEntry {
  std::string key;
  std::int64_t num = 0;
};

// A kind's statistics in one scope: its items grouped by the table's statistics key, unordered.
// An item whose key is empty text is in no entry.
template <class Item>
std::vector<StatisticsEntry> statistics(const Parts<Item>& parts, bool containers) {
  const Field<Item>* field = field_named<Item>(table_of<Item>().statistics_key);
  std::vector<StatisticsEntry> out;
  if (!field) return out;
  std::unordered_map<std::string_view, std::int64_t> by_text;
  std::unordered_map<std::int64_t, std::int64_t> by_number;
  for_each_in_scope(parts, containers, [&](const Item& item) {
    const FieldValue value = field->get(item);
    if (const auto* text = std::get_if<std::string_view>(&value)) {
      if (!text->empty()) ++by_text[*text];
    } else if (const auto* number = std::get_if<std::int64_t>(&value)) {
      ++by_number[*number];
    } else {
      ++by_number[std::get<bool>(value) ? 1 : 0];
    }
  });
  out.reserve(by_text.size() + by_number.size());
  for (const auto& [key, num] : by_text) out.push_back({std::string(key), num});
  for (const auto& [key, num] : by_number) out.push_back({std::to_string(key), num});
  return out;
}

}  // namespace hostprint::proto
